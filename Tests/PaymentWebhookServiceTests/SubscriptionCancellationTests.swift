import Core
import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import PostgresClient
import RedisClient
import TestSupport
import Testing
@testable import PaymentWebhookService

/// A deleted account's subscriptions are cancelled at Lemon Squeezy (the fake API on loopback), so
/// nobody is billed again for an account that is gone: each live one once, nothing else, and not
/// lost while Lemon Squeezy fails or the service is down.
@Suite(.timeLimit(.minutes(2))) struct SubscriptionCancellationTests {
    static let nobody = "http://127.0.0.1:9"

    static func environment(apiURL: String) -> [String: String] {
        [
            "PINGVAS_LEMONSQUEEZY_API_URL": apiURL, "PINGVAS_LEMONSQUEEZY_API_KEY": FakeLemonSqueezyAPI.apiKey,
            "PINGVAS_LEMONSQUEEZY_STORE_ID": FakeLemonSqueezyAPI.storeID, "PINGVAS_UPSTREAM_TIMEOUT": "2s",
        ]
    }

    /// Puts `user.deleted` of `user` on the harness's user events stream, as user's announcer does.
    static func announceDeletion(_ user: String, harness: PaymentTestHarness, redis: RedisPool) async throws {
        let event = UserDeleted(userID: try #require(UserID(user)), deletedAt: Date())
        _ = try await redis.xadd(
            harness.configuration.keys.userEvents, maxLength: 100_000, fields: [("m", String(decoding: try WireCodec.encode(event), as: UTF8.self))]
        )
    }

    /// `(status, cancel sent, attempts, error)` of subscription `id`.
    static func row(_ id: Int64, _ harness: PaymentTestHarness) async throws -> (status: String, sent: Bool, attempts: Int, error: String?)? {
        try await harness.pool.query(
            "SELECT status, cancel_sent_at IS NOT NULL AS sent, cancel_attempts, cancel_error FROM subscriptions WHERE ls_subscription_id = $1", [id]
        ).first.map {
            (try $0.decode(String.self, "status"), try $0.decode(Bool.self, "sent"), try $0.decode(Int.self, "cancel_attempts"),
             try $0.decode(String?.self, "cancel_error"))
        }
    }

    static func subscribe(_ harness: PaymentTestHarness, _ client: some TestClientProtocol, id: Int64, user: String?, status: String = "active") async throws {
        let event = status == "active" ? "subscription_created" : "subscription_updated"
        let body = LemonSqueezyPayloads.subscription(event, id: id, user: user, status: status, updatedAt: "2030-01-01T10:00:00.000000Z")
        #expect(try await harness.deliver(client, body, event: event).status == .ok)
        try await harness.waitUntilSettled()
    }

    @Test func aDeletedAccountsLiveSubscriptionsAreCancelledOnceEachAndNobodyElses() async throws {
        let lemon = FakeLemonSqueezyAPI()
        let leaver = UserID().description, stayer = UserID().description
        let redis = RedisPool(configuration: RedisConfiguration(url: try TestStack.shared().redisURL), logger: Logger(label: "test"))
        defer { Task { await redis.close() } }
        try await lemon.run { apiURL in
            try await PaymentTestHarness.withService(userURL: Self.nobody, environment: Self.environment(apiURL: apiURL)) { harness, client in
                try await Self.subscribe(harness, client, id: 9101, user: leaver)
                try await Self.subscribe(harness, client, id: 9102, user: leaver, status: "expired")
                try await Self.subscribe(harness, client, id: 9201, user: stayer)

                // Announced twice (the announcer repeats itself after a failure): one cancellation.
                try await Self.announceDeletion(leaver, harness: harness, redis: redis)
                try await Self.announceDeletion(leaver, harness: harness, redis: redis)
                try await eventually(timeout: .seconds(15), pollEvery: .milliseconds(50), "the live subscription is cancelled at Lemon Squeezy") {
                    try await Self.row(9101, harness)?.sent == true
                }
                // A subscription of the account that Lemon Squeezy reports only after the deletion.
                try await Self.subscribe(harness, client, id: 9103, user: leaver)
                try await eventually(timeout: .seconds(15), pollEvery: .milliseconds(50), "the late subscription is cancelled too") {
                    try await Self.row(9103, harness)?.sent == true
                }
                // Room for a wrong second request or one for somebody else's subscription: none may come.
                try await Task.sleep(for: .milliseconds(500))
                let sent = lemon.cancellations
                #expect(sent.map(\.subscriptionID).sorted() == [9101, 9103], "\(sent)")
                #expect(sent.allSatisfy { $0.problems.isEmpty }, "\(sent)")
                #expect(try await Self.row(9101, harness)?.attempts == 1)
                #expect(try await Self.row(9102, harness)?.sent == false, "an expired subscription is left alone")
                #expect(try await Self.row(9201, harness)?.sent == false, "another user's subscription is left alone")

                // Lemon Squeezy's own webhook then reports it cancelled; the plan stays until ends_at.
                let cancelled = LemonSqueezyPayloads.subscription(
                    "subscription_cancelled", id: 9101, user: nil, status: "cancelled", renewsAt: nil, endsAt: "2030-02-01T10:00:00.000000Z",
                    updatedAt: "2030-01-15T10:00:00.000000Z"
                )
                #expect(try await harness.deliver(client, cancelled, event: "subscription_cancelled").status == .ok)
                try await harness.waitUntilSettled()
                #expect(try await Self.row(9101, harness)?.status == "cancelled")
                #expect(lemon.cancellations.count == 2)

                // Resumed in Lemon Squeezy's portal after that: live again, so it is cancelled again.
                // A stale "active" state from before the cancellation changes nothing.
                let stale = LemonSqueezyPayloads.subscription("subscription_updated", id: 9101, user: nil, updatedAt: "2030-01-10T10:00:00.000000Z")
                #expect(try await harness.deliver(client, stale, event: "subscription_updated").status == .ok)
                let resumed = LemonSqueezyPayloads.subscription("subscription_resumed", id: 9101, user: nil, updatedAt: "2030-01-20T10:00:00.000000Z")
                #expect(try await harness.deliver(client, resumed, event: "subscription_resumed").status == .ok)
                try await harness.waitUntilSettled()
                try await eventually(timeout: .seconds(15), pollEvery: .milliseconds(50), "the resumed subscription is cancelled again") {
                    lemon.cancellations.filter { $0.subscriptionID == 9101 }.count == 2
                }
                try await Task.sleep(for: .milliseconds(500))
                #expect(lemon.cancellations.map(\.subscriptionID).sorted() == [9101, 9101, 9103], "\(lemon.cancellations)")
                #expect(try await Self.row(9101, harness)?.sent == true)
            }
        }
    }

    @Test func whileLemonSqueezyFailsOrTheServiceIsDownNoCancellationIsLost() async throws {
        let redis = RedisPool(configuration: RedisConfiguration(url: try TestStack.shared().redisURL), logger: Logger(label: "test"))
        defer { Task { await redis.close() } }
        let leaver = UserID().description
        try await PaymentTestHarness.with(userURL: Self.nobody, environment: Self.environment(apiURL: Self.nobody)) { harness in
            // Lemon Squeezy unreachable: attempts fail and back off, the subscriptions stay due.
            try await harness.run { client in
                try await Self.subscribe(harness, client, id: 9301, user: leaver)
                try await Self.subscribe(harness, client, id: 9302, user: leaver)
                try await Self.announceDeletion(leaver, harness: harness, redis: redis)
                try await eventually(timeout: .seconds(15), pollEvery: .milliseconds(50), "attempts fail with the reason kept") {
                    let row = try await Self.row(9301, harness)
                    return row?.sent == false && (row?.attempts ?? 0) >= 1 && row?.error?.contains("unreachable") == true
                }
            }
            // The service comes back with Lemon Squeezy answering 503 and 429 first; 9302 it does not know.
            let lemon = FakeLemonSqueezyAPI(cancelAnswers: [.serviceUnavailable, .tooManyRequests], unknownSubscriptions: [9302])
            try await lemon.run { apiURL in
                var configuration = harness.configuration
                configuration.apiURL = apiURL
                try await harness.run(configuration: configuration) { _ in
                    try await eventually(timeout: .seconds(20), pollEvery: .milliseconds(50), "both settle") {
                        let first = try await Self.row(9301, harness), second = try await Self.row(9302, harness)
                        return first?.sent == true && second?.sent == true
                    }
                }
            }
            let sent = lemon.cancellations
            #expect(sent.filter { $0.status == 200 }.map(\.subscriptionID) == [9301], "\(sent)")
            #expect(sent.filter { $0.status == 404 }.map(\.subscriptionID) == [9302], "\(sent)")
            #expect(sent.count == 4, "two failed answers, then one each: \(sent)")
            let settled = try #require(try await Self.row(9301, harness))
            #expect(settled.error == nil && settled.attempts >= 2, "\(settled)")
            #expect(try await Self.row(9302, harness)?.error?.contains("404") == true)
        }
    }
}
