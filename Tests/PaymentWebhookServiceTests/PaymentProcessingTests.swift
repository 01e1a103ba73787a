import Core
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresClient
import ServiceKit
import Testing
@testable import PaymentWebhookService

/// Stored deliveries applied by the processor: subscription state, credits, the billing route.
@Suite(.timeLimit(.minutes(2))) struct PaymentProcessingTests {
    /// One subscription's life: created, first invoice, a failed renewal and its recovery, cancelled.
    /// Only `subscription_created` carries `custom_data`; the rest are found by subscription id.
    static func lifecycle(subscription: Int64, user: String) -> [String] {
        let invoice1 = subscription * 10 + 1, invoice2 = subscription * 10 + 2
        return [
            LemonSqueezyPayloads.subscription("subscription_created", id: subscription, user: user, updatedAt: "2030-01-01T10:00:00.000000Z"),
            LemonSqueezyPayloads.invoice("subscription_payment_success", id: invoice1, subscription: subscription, user: user, billingReason: "initial"),
            LemonSqueezyPayloads.subscription(
                "subscription_updated", id: subscription, user: nil, status: "past_due", updatedAt: "2030-02-01T10:00:00.000000Z"
            ),
            LemonSqueezyPayloads.invoice(
                "subscription_payment_failed", id: invoice2, subscription: subscription, user: nil, status: "pending",
                updatedAt: "2030-02-01T10:00:00.000000Z"
            ),
            LemonSqueezyPayloads.invoice(
                "subscription_payment_recovered", id: invoice2, subscription: subscription, user: nil, updatedAt: "2030-02-02T10:00:00.000000Z"
            ),
            LemonSqueezyPayloads.invoice(
                "subscription_payment_success", id: invoice2, subscription: subscription, user: nil, updatedAt: "2030-02-02T10:00:00.000000Z"
            ),
            LemonSqueezyPayloads.subscription(
                "subscription_updated", id: subscription, user: nil, renewsAt: "2030-03-01T10:00:00.000000Z",
                updatedAt: "2030-02-02T10:00:01.000000Z"
            ),
            LemonSqueezyPayloads.subscription(
                "subscription_cancelled", id: subscription, user: nil, status: "cancelled", renewsAt: nil,
                endsAt: "2030-03-01T10:00:00.000000Z", updatedAt: "2030-02-10T10:00:00.000000Z"
            ),
        ]
    }

    @Test func shuffledDeliveriesEndInTheSameStateAndBalanceAsInOrder() async throws {
        let fake = FakeUserService()
        let users = (0..<4).map { _ in UserID().description }
        let answers = try await PaymentTestHarness.withService(users: fake) { harness, client in
            for (index, user) in users.enumerated() {
                var bodies = Self.lifecycle(subscription: Int64(8000 + index), user: user)
                if index == 1 { bodies.reverse() }
                if index > 1 { bodies.shuffle() }
                for body in bodies {
                    #expect(try await harness.deliver(client, body).status == .ok)
                    // Deliberate pacing, not a wait for a condition: the deliveries arrive about one
                    // poll interval apart, as real webhooks would; in what order must not matter.
                    try await Task.sleep(for: .milliseconds(60))
                }
            }
            try await harness.waitUntilSettled()
            #expect(try await harness.deliveries().allSatisfy { $0.status == "processed" })
            var answers: [String] = []
            for user in users {
                let (status, json) = try await harness.billing(client, user: user)
                #expect(status == .ok)
                var subscription = json["subscription"] as? [String: Any] ?? [:]
                subscription["id"] = nil
                answers.append("\(json["plan"] ?? "none") \(subscription.sorted { $0.key < $1.key })")
            }
            return answers
        }
        #expect(answers.first?.hasPrefix("pro ") == true)
        #expect(answers.first?.contains("cancelled") == true)
        #expect(answers.first?.contains("2030-03-01T10:00:00") == true)
        #expect(Set(answers).count == 1, "every order ends in the same state: \(answers)")
        for (index, user) in users.enumerated() {
            #expect(fake.balance(of: user) == 2000)
            let base = Int64(8000 + index) * 10
            #expect(Set(fake.granted.filter { $0.userID == user }.map(\.reference)) == ["ls-invoice:\(base + 1)", "ls-invoice:\(base + 2)"])
        }
    }

    /// The statuses of the rest of the lifecycle events: paused drops the plan, unpaused and resumed
    /// restore it, cancelled keeps it until `ends_at`.
    @Test func pausedUnpausedCancelledAndResumedMoveThePlan() async throws {
        let fake = FakeUserService()
        let user = UserID().description
        let subscription: Int64 = 8600
        let steps: [(body: String, plan: String, status: String)] = [
            (LemonSqueezyPayloads.subscription("subscription_created", id: subscription, user: user, updatedAt: "2030-01-01T10:00:00.000000Z"), "pro", "active"),
            (LemonSqueezyPayloads.subscription(
                "subscription_paused", id: subscription, user: nil, status: "paused", renewsAt: nil, updatedAt: "2030-01-05T10:00:00.000000Z"
            ), "free", "paused"),
            (LemonSqueezyPayloads.subscription(
                "subscription_unpaused", id: subscription, user: nil, updatedAt: "2030-01-06T10:00:00.000000Z"
            ), "pro", "active"),
            (LemonSqueezyPayloads.subscription(
                "subscription_cancelled", id: subscription, user: nil, status: "cancelled", renewsAt: nil,
                endsAt: "2030-02-01T10:00:00.000000Z", updatedAt: "2030-01-07T10:00:00.000000Z"
            ), "pro", "cancelled"),
            (LemonSqueezyPayloads.subscription(
                "subscription_resumed", id: subscription, user: nil, updatedAt: "2030-01-08T10:00:00.000000Z"
            ), "pro", "active"),
        ]
        try await PaymentTestHarness.withService(users: fake) { harness, client in
            for step in steps {
                #expect(try await harness.deliver(client, step.body).status == .ok)
                try await harness.waitUntilSettled()
                let (status, json) = try await harness.billing(client, user: user)
                #expect(status == .ok)
                let event = step.body.split(separator: "\"event_name\": \"").dropFirst().first?.prefix { $0 != "\"" } ?? "?"
                #expect(json["plan"] as? String == step.plan, "after \(event): \(json)")
                #expect((json["subscription"] as? [String: Any])?["status"] as? String == step.status, "after \(event): \(json)")
            }
            #expect(try await harness.deliveries().allSatisfy { $0.status == "processed" })
        }
    }

    @Test func aRedeliveredInvoiceWithADifferentBodyGrantsOnce() async throws {
        let fake = FakeUserService()
        let user = UserID().description
        try await PaymentTestHarness.withService(users: fake) { harness, client in
            _ = try await harness.deliver(client, LemonSqueezyPayloads.subscription("subscription_created", id: 8100, user: user, updatedAt: "2030-01-01T10:00:00.000000Z"))
            let invoice = LemonSqueezyPayloads.invoice("subscription_payment_success", id: 81001, subscription: 8100, user: user, billingReason: "initial")
            _ = try await harness.deliver(client, invoice)
            // Same invoice, different bytes (another dedupe key): the grant reference still matches.
            _ = try await harness.deliver(client, invoice.replacingOccurrences(of: "\"test_mode\": false", with: "\"test_mode\":false"))
            try await harness.waitUntilSettled()
            #expect(try await harness.deliveries().map(\.status) == ["processed", "processed", "processed"])
        }
        #expect(fake.granted == [FakeUserService.Grant(userID: user, amount: 1000, reference: "ls-invoice:81001")])
    }

    @Test func aCreditPackIsGrantedOnceAndASubscriptionOrderGrantsNothing() async throws {
        let fake = FakeUserService()
        let user = UserID().description
        try await PaymentTestHarness.withService(users: fake) { harness, client in
            _ = try await harness.deliver(client, LemonSqueezyPayloads.order(id: 8200, user: user))
            _ = try await harness.deliver(client, LemonSqueezyPayloads.order(id: 8200, user: user) + "\n")
            _ = try await harness.deliver(client, LemonSqueezyPayloads.order(id: 8201, user: user, variant: 101))
            _ = try await harness.deliver(client, LemonSqueezyPayloads.order(id: 8202, user: user, status: "pending"))
            try await harness.waitUntilSettled()
            #expect(try await harness.deliveries().allSatisfy { $0.status == "processed" })
            let orders = try await harness.pool.query("SELECT ls_order_id, credits FROM orders ORDER BY ls_order_id").map {
                "\(try $0.decode(Int64.self, "ls_order_id")):\(try $0.decode(Int64.self, "credits"))"
            }
            #expect(orders == ["8200:500", "8201:0", "8202:0"])
        }
        #expect(fake.balance(of: user) == 500)
        #expect(fake.granted.map(\.reference) == ["ls-order:8200"])
    }

    @Test func aUserWithoutASubscriptionHasTheFreePlan() async throws {
        let fake = FakeUserService()
        try await PaymentTestHarness.withService(users: fake) { harness, client in
            let (status, json) = try await harness.billing(client, user: UserID().description)
            #expect(status == .ok)
            #expect(json["plan"] as? String == "free")
            #expect(json["subscription"] == nil || json["subscription"] is NSNull)
            let anonymous = try await client.executeRequest(uri: "/api/v1/billing/subscription", method: .get, headers: [:], body: nil)
            #expect(anonymous.status == .unauthorized)
        }
    }

    @Test(arguments: [
        ("active", nil, Plan.pro), ("on_trial", nil, .pro), ("past_due", nil, .pro), ("cancelled", 3600.0, .pro),
        ("cancelled", -3600.0, .free), ("expired", nil, .free), ("unpaid", nil, .free), ("paused", nil, .free),
    ] as [(String, Double?, Plan)])
    func accessFollowsTheStatus(status: String, endsIn: Double?, expected: Plan) {
        let now = Date()
        let record = SubscriptionRecord(
            id: 1, userID: UserID(), variantID: 101, plan: .pro, status: status, renewsAt: nil,
            endsAt: endsIn.map { now.addingTimeInterval($0) }, trialEndsAt: nil, updatedAt: now
        )
        #expect(record.effectivePlan(at: now) == expected)
    }

    @Test func theVariantCatalogRejectsNonsense() throws {
        let catalog = try VariantCatalog(json: Array(PaymentTestHarness.variants.utf8))
        #expect(catalog[101]?.plan == .pro && catalog[101]?.monthlyCredits == 1000)
        #expect(catalog[201]?.credits == 500)
        #expect(catalog[999] == nil)
        for bad in ["[]", #"{"x": {"credits": 5}}"#, #"{"1": {}}"#, #"{"1": {"plan": "platinum"}}"#, #"{"1": {"credits": 0}}"#] {
            #expect(throws: VariantCatalogError.self) { try VariantCatalog(json: Array(bad.utf8)) }
        }
    }

    @Test func missingSigningSecretStopsStartUp() {
        var reader = ConfigurationReader(environment: ["PINGVAS_DATABASE_URL": "postgresql://x@127.0.0.1/x", "PINGVAS_REDIS_URL": "redis://127.0.0.1"])
        _ = PaymentWebhookConfiguration(reader: &reader)
        #expect(throws: ConfigurationError.self) { try reader.validate() }
        #expect(!reader.summary.contains("whsec"))
    }
}
