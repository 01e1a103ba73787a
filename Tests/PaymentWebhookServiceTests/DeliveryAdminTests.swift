import Core
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresClient
import TestSupport
import Testing
@testable import PaymentWebhookService

/// The admin routes over the delivery store: listing processing state and replaying a delivery.
@Suite(.timeLimit(.minutes(2))) struct DeliveryAdminTests {
    static func call(
        _ client: some TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, roles: String? = "user,admin", identified: Bool = true
    ) async throws -> (status: HTTPResponse.Status, text: String, json: [String: Any]) {
        let headers = HTTPFields.identity(identified ? UserID() : nil, roles: roles)
        let response = try await client.executeRequest(uri: uri, method: method, headers: headers, body: nil)
        let text = String(buffer: response.body)
        return (response.status, text, (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:])
    }

    @Test func adminsListDeliveriesWithTheirStateButNeverTheirBodies() async throws {
        let fake = FakeUserService()
        try await PaymentTestHarness.withService(users: fake) { harness, client in
            let marker = "admin-list-marker-\(UUID().uuidString)"
            let order = LemonSqueezyPayloads.order(id: 9400, user: UserID().description).replacingOccurrences(of: "Ada Lovelace", with: marker)
            _ = try await harness.deliver(client, order)
            _ = try await harness.deliver(client, "not json \(marker)")
            _ = try await harness.deliver(client, LemonSqueezyPayloads.order(id: 9401, user: UserID().description, testMode: true))
            try await harness.waitUntilSettled()

            let all = try await Self.call(client, .get, "/api/v1/billing/admin/deliveries")
            #expect(all.status == .ok)
            let items = all.json["items"] as? [[String: Any]] ?? []
            #expect(items.count == 3)
            #expect(Set(items.compactMap { $0["status"] as? String }) == ["processed", "dead", "ignored"])
            let processed = items.first { $0["status"] as? String == "processed" }
            #expect(processed?["event_name"] as? String == "order_created")
            #expect(processed?["attempts"] as? Int == 1)
            #expect(processed?["received_at"] is String)
            #expect(processed?["processed_at"] is String)
            #expect(items.first { $0["status"] as? String == "dead" }?["last_error"] is String)
            for item in items {
                #expect(Set(item.keys) == ["id", "event_name", "status", "test_mode", "attempts", "last_error", "received_at", "next_attempt_at", "processed_at"])
            }
            #expect(!all.text.contains(marker))
            #expect(all.json["next_cursor"] is NSNull)

            let dead = try await Self.call(client, .get, "/api/v1/billing/admin/deliveries?status=dead")
            #expect((dead.json["items"] as? [[String: Any]])?.map { $0["status"] as? String } == ["dead"])

            // Pages of one, newest first, cover every delivery once.
            var seen: [String] = []
            var cursor: String?
            repeat {
                let page = try await Self.call(client, .get, "/api/v1/billing/admin/deliveries?limit=1" + (cursor.map { "&cursor=\($0)" } ?? ""))
                #expect(page.status == .ok)
                seen += (page.json["items"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
                cursor = page.json["next_cursor"] as? String
            } while cursor != nil && seen.count < 10
            #expect(seen == items.compactMap { $0["id"] as? String })

            #expect(try await Self.call(client, .get, "/api/v1/billing/admin/deliveries?status=lost").status == .badRequest)
            #expect(try await Self.call(client, .get, "/api/v1/billing/admin/deliveries?limit=0").status == .badRequest)
            #expect(try await Self.call(client, .get, "/api/v1/billing/admin/deliveries?cursor=!!").status == .badRequest)

            let user = try await Self.call(client, .get, "/api/v1/billing/admin/deliveries", roles: "user")
            #expect(user.status == .forbidden)
            #expect(user.json["type"] as? String == "https://pingvas.studio/problems/forbidden")
            #expect(try await Self.call(client, .get, "/api/v1/billing/admin/deliveries", roles: nil).status == .forbidden)
            #expect(try await Self.call(client, .get, "/api/v1/billing/admin/deliveries", identified: false).status == .unauthorized)
        }
    }

    @Test func replayPutsADeliveryBackAndTheProcessorAppliesItAgainWithoutASecondGrant() async throws {
        let fake = FakeUserService()
        let user = UserID().description
        try await PaymentTestHarness.withService(users: fake) { harness, client in
            _ = try await harness.deliver(client, LemonSqueezyPayloads.order(id: 9500, user: user))
            _ = try await harness.deliver(client, LemonSqueezyPayloads.order(id: 9501, user: UserID().description, testMode: true))
            try await harness.waitUntilSettled()
            let listed = try await Self.call(client, .get, "/api/v1/billing/admin/deliveries")
            let items = listed.json["items"] as? [[String: Any]] ?? []
            let processedID = try #require(items.first { $0["status"] as? String == "processed" }?["id"] as? String)
            let ignoredID = try #require(items.first { $0["status"] as? String == "ignored" }?["id"] as? String)

            let forbidden = try await Self.call(client, .post, "/api/v1/billing/admin/deliveries/\(processedID)/replay", roles: "user")
            #expect(forbidden.status == .forbidden)
            let anonymous = try await Self.call(client, .post, "/api/v1/billing/admin/deliveries/\(processedID)/replay", identified: false)
            #expect(anonymous.status == .unauthorized)

            let replay = try await Self.call(client, .post, "/api/v1/billing/admin/deliveries/\(processedID)/replay")
            #expect(replay.status == .accepted)
            #expect(replay.json["status"] as? String == "pending")
            try await harness.waitUntilSettled()
            let after = try await Self.call(client, .get, "/api/v1/billing/admin/deliveries?status=processed")
            let row = (after.json["items"] as? [[String: Any]] ?? []).first { $0["id"] as? String == processedID }
            #expect(row?["status"] as? String == "processed")
            #expect(row?["attempts"] as? Int == 1)

            // Test mode is not accepted here: replaying the ignored one would grant for a test payment.
            let refused = try await Self.call(client, .post, "/api/v1/billing/admin/deliveries/\(ignoredID)/replay")
            #expect(refused.status == .conflict)
            #expect(refused.json["type"] as? String == "https://pingvas.studio/problems/test-mode-not-accepted")

            let missing = try await Self.call(client, .post, "/api/v1/billing/admin/deliveries/\(UUID().uuidString)/replay")
            #expect(missing.status == .notFound)
            #expect(try await Self.call(client, .post, "/api/v1/billing/admin/deliveries/not-a-uuid/replay").status == .notFound)
        }
        // Applied twice, granted once: the grant is idempotent by order id.
        #expect(fake.calls.count == 2)
        #expect(fake.balance(of: user) == 500)
    }

    @Test func replayingAFailedDeliveryAppliesItOnceItsCauseIsFixed() async throws {
        let fake = FakeUserService()
        let user = UserID().description
        // The user service is down at first: the grant fails until the attempt limit.
        try await PaymentTestHarness.with(userURL: "http://127.0.0.1:1", environment: ["PINGVAS_WEBHOOK_MAX_ATTEMPTS": "2"]) { harness in
            try await harness.run { client in
                _ = try await harness.deliver(client, LemonSqueezyPayloads.order(id: 9600, user: user))
                try await harness.waitUntilSettled()
                #expect(try await harness.deliveries().map(\.status) == ["failed"])
            }
            try await fake.run { userURL in
                try await harness.run(configuration: PaymentWebhookConfiguration(copying: harness.configuration, userURL: userURL)) { client in
                    let failed = try await Self.call(client, .get, "/api/v1/billing/admin/deliveries?status=failed")
                    let id = try #require((failed.json["items"] as? [[String: Any]])?.first?["id"] as? String)
                    #expect(try await Self.call(client, .post, "/api/v1/billing/admin/deliveries/\(id)/replay").status == .accepted)
                    try await harness.waitUntilSettled()
                    #expect(try await harness.deliveries().map(\.status) == ["processed"])
                }
            }
        }
        #expect(fake.balance(of: user) == 500)
    }
}

extension PaymentWebhookConfiguration {
    /// The same configuration (same schema) with the user service somewhere else.
    init(copying other: PaymentWebhookConfiguration, userURL: String) {
        self = other
        self.userURL = userURL
    }
}
