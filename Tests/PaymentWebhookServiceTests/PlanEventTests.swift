import Core
import Foundation
import HummingbirdTesting
import Logging
import PostgresClient
import RedisClient
import TestSupport
import Testing
@testable import PaymentWebhookService

/// A change of a user's effective plan leaves as one `plan.changed` event on the Redis stream.
@Suite(.timeLimit(.minutes(2))) struct PlanEventTests {
    @Test func planChangesAreRelayedOnceEachAndInOrder() async throws {
        let fake = FakeUserService()
        let user = UserID().description
        let redis = RedisPool(configuration: RedisConfiguration(url: try TestStack.shared().redisURL), logger: Logger(label: "test"))
        defer { Task { await redis.close() } }
        let events = try await PaymentTestHarness.withService(users: fake) { harness, client in
            let bodies = [
                LemonSqueezyPayloads.subscription("subscription_created", id: 8800, user: user, updatedAt: "2030-01-01T10:00:00.000000Z"),
                // Still pro: a renewal date change announces nothing.
                LemonSqueezyPayloads.subscription(
                    "subscription_updated", id: 8800, user: nil, renewsAt: "2030-03-01T10:00:00.000000Z", updatedAt: "2030-02-01T10:00:00.000000Z"
                ),
                LemonSqueezyPayloads.subscription(
                    "subscription_expired", id: 8800, user: nil, status: "expired", renewsAt: nil, updatedAt: "2030-04-01T10:00:00.000000Z"
                ),
                // Older than the stored state: not applied, nothing announced.
                LemonSqueezyPayloads.subscription(
                    "subscription_updated", id: 8800, user: nil, status: "past_due", updatedAt: "2030-03-15T10:00:00.000000Z"
                ),
            ]
            for body in bodies {
                _ = try await harness.deliver(client, body)
                try await harness.waitUntilSettled()
            }
            let stream = harness.configuration.keys.planEvents
            func unsent() async throws -> Int? {
                try await harness.pool.query("SELECT count(*) AS n FROM outbox WHERE sent_at IS NULL").first?.decode(Int.self, "n")
            }
            try await eventually(timeout: .seconds(15), "two plan.changed events on \(stream), every outbox row marked sent") {
                let relayed = try await redis.send("XLEN", stream).int ?? 0
                return try await unsent() == 0 && relayed >= 2
            }
            // A window for a wrong third announcement to show up: none may.
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await unsent() == 0)
            let reply = try await redis.send("XRANGE", stream, "-", "+")
            return try Self.envelopes(reply).map { try WireCodec.decode(PlanChanged.self, from: Array($0.utf8)).data }
        }
        #expect(events.map(\.plan) == [.pro, .free])
        #expect(events.allSatisfy { $0.userID.description == user && $0.sourceRef == "ls-subscription:8800" })
        #expect(events.count == 2 && events[0].effectiveAt < events[1].effectiveAt)
    }

    /// The `m` field of every entry of an XRANGE reply.
    static func envelopes(_ reply: RedisValue) throws -> [String] {
        guard case .array(let entries) = reply else { return [] }
        return entries.compactMap { entry in
            guard case .array(let parts) = entry, parts.count == 2, case .array(let fields) = parts[1] else { return nil }
            let texts = fields.compactMap(\.string)
            return stride(from: 0, to: texts.count - 1, by: 2).first { texts[$0] == "m" }.map { texts[$0 + 1] }
        }
    }
}
