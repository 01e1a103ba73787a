import PostgresClient
import TestSupport
import Testing

@Suite(.timeLimit(.minutes(2))) struct PostgresRecoveryTests {
    @Test func pingFailsWhileTheServerIsDownAndRecoversWhenItIsBack() async throws {
        let servers = try TestStack.startPrivate("postgres")
        defer { try? servers.stack("stop", "postgres") }
        let pool = PostgresPool(
            configuration: PostgresConfiguration(url: servers.databaseURL, maxConnections: 3, connectTimeout: .seconds(2)),
            logger: quietLogger)
        try await pool.ping()
        // Two idle connections, both of which the restart will break.
        try await pool.withConnection { _ in try await pool.ping() }

        try servers.stack("stop", "postgres")
        let start = ContinuousClock.now
        let down = await postgresError { try await pool.ping() }
        #expect(ContinuousClock.now - start < .seconds(5))
        #expect(down?.code == .connectionFailed, "broken idle connections are dropped without a failed query")
        let stillDown = await postgresError { try await pool.ping() }
        #expect(stillDown?.code == .connectionFailed)

        try servers.stack("start", "postgres")
        try await eventually(timeout: .seconds(10), "ping succeeds again after the server restarted") { (try? await pool.ping()) != nil }
        #expect(try await pool.query("SELECT 1 AS one", [])[0].decode(Int.self, "one") == 1)
        await pool.close()
    }
}
