import Core
import Foundation
import HTTPTypes
import Logging
import RedisClient
import ServiceKit
import TestSupport
import Testing

@testable import UserService

/// A suspension is in PostgreSQL and in Redis (for the gateway); when Redis loses it, the user
/// service writes it again.
@Suite(.timeLimit(.minutes(2))) struct SuspensionPublisherTests {
    @Test func aSuspensionRedisLostIsWrittenAgain() async throws {
        let keys = PipelineKeys(namespace: TestStack.uniqueName("susp"))
        let redis = RedisPool(configuration: RedisConfiguration(url: try TestStack.shared().redisURL), logger: Logger(label: "test"))
        try await UserServiceHarness.withApp(adjust: {
            $0.keys = keys
            $0.suspensionRepublishInterval = .milliseconds(200)
        }) { api in
            let account = try await api.signup()
            let admin = HTTPFields.identity(UserID(), roles: "user,admin")
            let suspended = try await api.post("/api/v1/admin/users/\(account.id)/suspend", json: ["reason": "test"], headers: admin)
            #expect(suspended.status == .ok, "\(suspended.text)")
            let key = keys.suspended(try #require(UserID(account.id)))
            #expect(try await redis.send(["EXISTS", key]).int == 1)

            _ = try await redis.send(["DEL", key])  // Redis lost its data
            try await eventually(timeout: .seconds(10), pollEvery: .milliseconds(50), "the suspension is in Redis again") {
                try await redis.send(["EXISTS", key]).int == 1
            }
            #expect(try await api.post("/api/v1/admin/users/\(account.id)/restore", json: ["reason": "test"], headers: admin).status == .ok)
            #expect(try await redis.send(["EXISTS", key]).int == 0)
            #expect(try await api.get("/api/v1/me", headers: account.identity).status == .ok)
        }
        await redis.close()
    }
}
