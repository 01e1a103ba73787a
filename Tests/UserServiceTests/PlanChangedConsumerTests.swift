import Core
import Foundation
import Logging
import RedisClient
import TestSupport
import Testing

@testable import UserService

/// `plan.changed` events from payment-webhook, read from real Redis, set the plan new tokens carry.
@Suite(.timeLimit(.minutes(2))) struct PlanChangedConsumerTests {
    @Test func planEventsSetThePlanOnceInOrderAndUnreadableOnesAreDeadLettered() async throws {
        let keys = PipelineKeys(namespace: TestStack.uniqueName("user"))
        let stream = keys.planEvents
        let redis = RedisPool(configuration: RedisConfiguration(url: try TestStack.shared().redisURL), logger: Logger(label: "test"))
        defer { Task { await redis.close() } }
        try await UserServiceHarness.withApp(adjust: { $0.keys = keys; $0.planEventLease = .seconds(1) }) { api in
            let account = try await api.signup()
            let user = try #require(UserID(account.id))
            func send(_ plan: Plan, at seconds: TimeInterval) async throws {
                let change = PlanChanged(userID: user, plan: plan, effectiveAt: Date(timeIntervalSince1970: seconds), sourceRef: "ls-subscription:1")
                _ = try await redis.xadd(stream, maxLength: nil, fields: [("m", String(decoding: try WireCodec.encode(change), as: UTF8.self))])
            }
            func plan() async throws -> String? { try await api.get("/internal/users/\(account.id)").json["plan"] as? String }

            try await send(.pro, at: 2_000_000_000)
            try await send(.pro, at: 2_000_000_000)  // redelivered
            try await send(.free, at: 1_999_999_999)  // older, arriving late
            _ = try await redis.xadd(stream, maxLength: nil, fields: [("m", "{not an envelope")])
            try await eventually(timeout: .seconds(15), "every message read and acknowledged, the plan applied") {
                let consumed = try? await redis.hasConsumedEverything(on: stream, group: "user")
                let current = try? await plan()
                return consumed == true && current == "pro"
            }
            #expect(try await plan() == "pro", "the late, older change is ignored")

            // The next access token carries the new plan.
            let refreshed = try await api.post("/api/v1/auth/refresh", json: ["refresh_token": account.refreshToken])
            let token = try #require(refreshed.json["access_token"] as? String)
            #expect(try Self.claims(token)["plan"] as? String == "pro")

            let dead = try await redis.send("XREVRANGE", keys.eventsDeadLetter, "+", "-", "COUNT", "1000")
            #expect(Self.strings(dead).contains(stream), "the unreadable message is in the dead-letter stream")

            try await send(.free, at: 2_000_000_001)
            try await eventually(timeout: .seconds(15), "the newer change to free is applied") { (try? await plan()) == "free" }
        }
    }

    static func claims(_ token: String) throws -> [String: Any] {
        var payload = String(token.split(separator: ".")[1]).replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while payload.count % 4 != 0 { payload += "=" }
        return try JSONSerialization.jsonObject(with: try #require(Data(base64Encoded: payload))) as? [String: Any] ?? [:]
    }

    static func strings(_ value: RedisValue) -> [String] {
        if case .array(let items) = value { return items.flatMap(strings) }
        return value.string.map { [$0] } ?? []
    }
}
