import PostgresClient
import Testing

@Suite(.timeLimit(.minutes(2))) struct PostgresCancellationTests {
    @Test func statementTimeoutCancelsARunawayQuery() async throws {
        let db = try await PostgresTestDatabase(statementTimeout: .milliseconds(300))
        let start = ContinuousClock.now
        let error = await postgresError { _ = try await db.pool.query("SELECT pg_sleep(10)", []) }
        #expect(error?.code == .queryCanceled)
        #expect(error?.sqlState == "57014")
        #expect(ContinuousClock.now - start < .seconds(3))
        #expect(try await db.pool.query("SELECT 1 AS one", [])[0].decode(Int.self, "one") == 1)
        await db.tearDown()
    }

    @Test func cancellingTheTaskCancelsTheQueryAndKeepsTheConnection() async throws {
        let db = try await PostgresTestDatabase(maxConnections: 1)
        try await db.pool.withConnection { connection in
            let pid = try await connection.query("SELECT pg_backend_pid() AS pid", [])[0].decode(Int.self, "pid")
            let sleeper = Task { try await connection.query("SELECT pg_sleep(10)", []) }
            try await db.waitUntilRunning("pg_sleep(10)", pid: pid)
            let start = ContinuousClock.now
            sleeper.cancel()
            let result = await sleeper.result
            #expect(ContinuousClock.now - start < .seconds(2))
            #expect(throws: PostgresError.self) { try result.get() }
            if case .failure(let error as PostgresError) = result { #expect(error.code == .queryCanceled) }
            let again = try await connection.query("SELECT pg_backend_pid() AS pid", [])[0].decode(Int.self, "pid")
            #expect(again == pid, "same server session after the cancel")
        }
        await db.tearDown()
    }

    @Test func cancellingAPoolQueryReturnsTheConnectionInGoodShape() async throws {
        let db = try await PostgresTestDatabase(maxConnections: 1)
        let pool = db.pool
        let pid = try await pool.query("SELECT pg_backend_pid() AS pid", [])[0].decode(Int.self, "pid")
        let sleeper = Task { try await pool.transaction { try await $0.query("SELECT pg_sleep(10)", []) } }
        try await db.waitUntilRunning("pg_sleep(10)", pid: pid)
        let start = ContinuousClock.now
        sleeper.cancel()
        let error = await postgresError { _ = try await sleeper.value }
        #expect(error?.code == .queryCanceled)
        #expect(ContinuousClock.now - start < .seconds(2))
        let row = try await pool.query("SELECT pg_backend_pid() AS pid, true AS ok", [])[0]
        #expect(try row.decode(Int.self, "pid") == pid)
        #expect(try row.decode(Bool.self, "ok"), "not left inside the aborted transaction")
        await db.tearDown()
    }
}
