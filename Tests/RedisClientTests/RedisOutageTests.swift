import RedisClient
import TestSupport
import Testing

extension RedisClientTests {
    @Suite("Redis outages", .timeLimit(.minutes(2)))
    struct RedisOutageTests {
        @Test("ping fails fast while Redis is down and succeeds again once it is back")
        func serverDown() async throws {
            let servers = try TestStack.startPrivate("redis")
            defer { try? servers.stack("stop", "redis") }
            try await Redis.withPool(servers.redisURL, maxConnections: 2) { pool in
                try await pool.ping()
                let key = TestStack.uniqueName("outage")
                _ = try await pool.send("SET", key, "v")

                try servers.stack("stop", "redis")
                let clock = ContinuousClock()
                let stoppedAt = clock.now
                let error = await #expect(throws: RedisError.self) { try await pool.ping() }
                #expect(clock.now - stoppedAt < .seconds(3))
                #expect(error?.kind == .connectionFailed || error?.kind == .connectionLost)
                // Still down: fails again, still quickly.
                await #expect(throws: RedisError.self) { try await pool.ping() }
                #expect(clock.now - stoppedAt < .seconds(3))

                try servers.stack("start", "redis")
                let startedAt = clock.now
                try await eventually(timeout: .seconds(10), pollEvery: .milliseconds(100), "ping succeeds again once Redis is back") {
                    (try? await pool.ping()) != nil
                }
                #expect(clock.now - startedAt < .seconds(4))
            }
        }
    }
}
