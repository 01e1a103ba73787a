import Core
import Foundation
import HTTPClient
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import PostgresClient
import ServiceKit
import TestSupport
import Testing
@testable import PaymentWebhookService

/// `order_refunded` and `subscription_payment_refunded` take back what the payment granted, once.
@Suite(.timeLimit(.minutes(2))) struct RefundTests {
    @Test func twoRefundDeliveriesRacingTheirOrderTakeThePackBackOnce() async throws {
        let fake = FakeUserService()
        let user = UserID().description
        // The application only stores; two processors of our own apply, concurrently.
        try await PaymentTestHarness.withService(users: fake, environment: ["PINGVAS_WEBHOOK_POLL_INTERVAL": "1h"]) { harness, client in
            let refund = LemonSqueezyPayloads.order("order_refunded", id: 8400, user: user, status: "refunded")
            // Lemon Squeezy's retry of one event may differ in bytes (another dedupe key): two stored refunds.
            for body in [refund, refund.replacingOccurrences(of: "\"refunded\": true", with: "\"refunded\":true"),
                         LemonSqueezyPayloads.order(id: 8400, user: user)] {
                #expect(try await harness.deliver(client, body).status == .ok)
            }
            let processors = try (0..<2).map { _ in try harness.processor() }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for processor in processors {
                    group.addTask {
                        try await eventually(timeout: .seconds(20), "the processors applied every delivery") {
                            if try await processor.processNext() { return false }  // applied one: there may be more
                            return try await harness.pendingCount() == 0
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await harness.deliveries().map(\.status) == ["processed", "processed", "processed"])
            let refunded = try await harness.pool.query("SELECT status, refunded_at IS NOT NULL AS r FROM orders WHERE ls_order_id = 8400")
            #expect(try refunded.first?.decode(Bool.self, "r") == true)
            #expect(try refunded.first?.decode(String.self, "status") == "refunded")
        }
        #expect(fake.granted == [FakeUserService.Grant(userID: user, amount: 500, reference: "ls-order:8400")])
        #expect(fake.debited == [FakeUserService.Grant(userID: user, amount: 500, reference: "ls-refund:order:8400")])
        #expect(fake.balance(of: user) == 0)
    }

    @Test func aRefundThatArrivesFirstWaitsForItsOrderInsteadOfTakingNothing() async throws {
        let fake = FakeUserService()
        let user = UserID().description
        try await PaymentTestHarness.withService(users: fake) { harness, client in
            _ = try await harness.deliver(client, LemonSqueezyPayloads.order("order_refunded", id: 8500, user: user, status: "refunded"))
            try await eventually(timeout: .seconds(10), "the refund is retried while its order is unknown") {
                ((try? await harness.deliveries()) ?? []).first.map { $0.status == "pending" && $0.attempts >= 2 } ?? false
            }
            #expect(fake.calls.isEmpty)
            _ = try await harness.deliver(client, LemonSqueezyPayloads.order(id: 8500, user: user))
            try await harness.waitUntilSettled()
            #expect(try await harness.deliveries().map(\.status) == ["processed", "processed"])
        }
        #expect(fake.debited == [FakeUserService.Grant(userID: user, amount: 500, reference: "ls-refund:order:8500")])
        #expect(fake.balance(of: user) == 0)
    }

    @Test func aRefundedInvoiceTakesBackItsMonthlyCreditsAndAProrationTakesNothing() async throws {
        let fake = FakeUserService()
        let user = UserID().description
        try await PaymentTestHarness.withService(users: fake) { harness, client in
            let bodies = [
                LemonSqueezyPayloads.subscription("subscription_created", id: 8600, user: user, updatedAt: "2030-01-01T10:00:00.000000Z"),
                LemonSqueezyPayloads.invoice("subscription_payment_success", id: 86001, subscription: 8600, user: user, billingReason: "initial"),
                LemonSqueezyPayloads.invoice("subscription_payment_success", id: 86002, subscription: 8600, user: user, billingReason: "updated"),
                LemonSqueezyPayloads.invoice("subscription_payment_refunded", id: 86001, subscription: 8600, user: user, status: "refunded"),
                LemonSqueezyPayloads.invoice("subscription_payment_refunded", id: 86002, subscription: 8600, user: user, status: "refunded"),
                // The subscription's first order grants no pack, so its refund takes nothing either.
                LemonSqueezyPayloads.order(id: 8601, user: user, variant: 101),
                LemonSqueezyPayloads.order("order_refunded", id: 8601, user: user, variant: 101, status: "refunded"),
            ]
            for body in bodies { _ = try await harness.deliver(client, body) }
            try await harness.waitUntilSettled()
            let rows = try await harness.deliveries()
            #expect(rows.allSatisfy { $0.status == "processed" }, "\(rows)")
        }
        #expect(fake.granted.map(\.reference) == ["ls-invoice:86001"])
        #expect(fake.debited == [FakeUserService.Grant(userID: user, amount: 1000, reference: "ls-refund:invoice:86001")])
        #expect(fake.balance(of: user) == 0)
    }

    @Test func aPartialRefundIsKeptAsFailedForAnAdmin() async throws {
        let fake = FakeUserService()
        let user = UserID().description
        try await PaymentTestHarness.withService(users: fake) { harness, client in
            _ = try await harness.deliver(client, LemonSqueezyPayloads.order(id: 8700, user: user))
            try await harness.waitUntilSettled()
            _ = try await harness.deliver(client, LemonSqueezyPayloads.order("order_refunded", id: 8700, user: user, status: "partial_refund"))
            try await harness.waitUntilSettled()
            let rows = try await harness.deliveries()
            #expect(rows.map(\.status) == ["processed", "failed"])
            #expect(rows.last?.error?.contains("in part") == true)
        }
        #expect(fake.debited.isEmpty)
        #expect(fake.balance(of: user) == 500)
    }
}

extension PaymentTestHarness {
    /// A processor of this configuration with a pool of its own, as another replica would run it.
    func processor() throws -> DeliveryProcessor {
        let servers = try TestStack.shared()
        let pool = PostgresPool(
            configuration: PostgresConfiguration(url: servers.databaseURL, schema: configuration.service.databaseSchema, maxConnections: 2),
            logger: Logger(label: "test")
        )
        let http = CurlHTTPClient(logger: Logger(label: "test"))
        let applier = EventApplier(
            variants: configuration.variants, credits: UserCreditsClient(baseURL: configuration.userURL, http: http, timeout: .seconds(5), trust: configuration.service.trust),
            plans: PlanAnnouncer(stream: configuration.keys.planEvents), logger: Logger(label: "test")
        )
        return DeliveryProcessor(
            pool: pool, applier: applier, pollInterval: .milliseconds(20), retryBase: .milliseconds(20), retryCap: .milliseconds(50),
            maxAttempts: 100, ready: { true }, logger: Logger(label: "test")
        )
    }
}
