import Foundation
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

    @Test func aServerThatStopsAnsweringFailsTheQueryWithinItsDeadlineAndThePoolRecovers() async throws {
        let servers = try TestStack.startPrivate("postgres")
        defer { try? servers.stack("stop", "postgres") }
        let pool = PostgresPool(
            configuration: PostgresConfiguration(url: servers.databaseURL, maxConnections: 2, connectTimeout: .seconds(2), queryTimeout: .seconds(1)),
            logger: quietLogger)
        func signal(_ name: String, _ pid: Int) throws {
            let kill = Process()
            kill.executableURL = URL(fileURLWithPath: "/bin/kill")
            kill.arguments = ["-\(name)", String(pid)]
            try kill.run()
            kill.waitUntilExit()
            #expect(kill.terminationStatus == 0, "kill -\(name) \(pid)")
        }

        // The backend serving our connection stops (SIGSTOP): its socket stays open, nothing answers,
        // and neither a cancel request nor TCP keepalives can tell.
        let stopped = try await pool.withConnection { connection -> Int in
            let pid = try await connection.query("SELECT pg_backend_pid() AS pid", [])[0].decode(Int.self, "pid")
            try signal("STOP", pid)
            let start = ContinuousClock.now
            let error = await postgresError { _ = try await connection.query("SELECT 1", []) }
            let took = ContinuousClock.now - start
            #expect(error?.code == .timeout, "\(String(describing: error))")
            #expect(took >= .milliseconds(900) && took < .seconds(3), "failed after \(took), deadline 1 s")
            return pid
        }
        // The pool dropped that connection and opens a new one: queries work at once.
        #expect(try await pool.query("SELECT 2 AS two", [])[0].decode(Int.self, "two") == 2)
        try signal("CONT", stopped)

        // The whole server stops: a query fails within the deadline, and once it runs again so does the pool.
        let postmaster = try #require(Int(try String(contentsOfFile: "\(servers.directory)/postgres/data/postmaster.pid", encoding: .utf8)
            .split(separator: "\n").first ?? ""))
        let busy = try await pool.query("SELECT pg_backend_pid() AS pid", [])[0].decode(Int.self, "pid")
        try signal("STOP", postmaster)
        try signal("STOP", busy)
        let start = ContinuousClock.now
        let down = await postgresError { _ = try await pool.query("SELECT 3", []) }
        #expect(down?.code == .timeout || down?.code == .connectionFailed, "\(String(describing: down))")
        #expect(ContinuousClock.now - start < .seconds(4), "failed after \(ContinuousClock.now - start)")
        try signal("CONT", postmaster)
        try signal("CONT", busy)
        try await eventually(timeout: .seconds(10), "queries succeed again once the server runs") { (try? await pool.ping()) != nil }
        await pool.close()
    }
}
