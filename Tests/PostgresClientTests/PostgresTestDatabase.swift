import Logging
import PostgresClient
import TestSupport
import Testing

/// A pool on the shared test server, confined to a schema of its own so parallel tests never meet.
struct PostgresTestDatabase {
    let url: String
    let schema: String
    let pool: PostgresPool

    init(
        maxConnections: Int = 4,
        acquireTimeout: Duration = .seconds(5),
        statementTimeout: Duration? = .seconds(30),
        url: String? = nil
    ) async throws {
        let servers = try TestStack.shared()
        self.url = url ?? servers.databaseURL
        schema = TestStack.uniqueName("pgc")
        let setup = PostgresPool(configuration: PostgresConfiguration(url: self.url), logger: quietLogger)
        try await setup.execute("CREATE SCHEMA \(schema)", [])
        await setup.close()
        pool = PostgresPool(
            configuration: PostgresConfiguration(
                url: self.url, schema: schema, maxConnections: maxConnections, acquireTimeout: acquireTimeout,
                statementTimeout: statementTimeout, applicationName: schema
            ),
            logger: quietLogger
        )
    }

    /// Waits until the server runs a statement containing `sql` on session `pid`, as another
    /// session of its own sees it in `pg_stat_activity`.
    func waitUntilRunning(_ sql: String, pid: Int, fileID: String = #fileID, line: Int = #line) async throws {
        let observer = PostgresPool(configuration: PostgresConfiguration(url: url, maxConnections: 1), logger: quietLogger)
        try await withClosing(observer, close: { await $0.close() }) { observer in
            try await eventually("session \(pid) runs \(sql)", fileID: fileID, line: line) {
                let rows = try await observer.query(
                    "SELECT count(*) AS n FROM pg_stat_activity WHERE pid = $1 AND state = 'active' AND position($2 in query) > 0", pid, sql
                )
                return try rows[0].decode(Int.self, "n") == 1
            }
        }
    }

    /// Drops the schema and closes the pool.
    func tearDown() async {
        _ = try? await pool.execute("DROP SCHEMA IF EXISTS \(schema) CASCADE", [])
        await pool.close()
    }
}

let quietLogger = Logger(label: "postgres-client-tests") { _ in SwiftLogNoOpLogHandler() }

/// Runs `body` and returns the `PostgresError` it threw; records a failure if it threw something else or nothing.
func postgresError(
    _ body: () async throws -> Void, sourceLocation: SourceLocation = #_sourceLocation
) async -> PostgresError? {
    do {
        try await body()
        Issue.record("expected a PostgresError, but nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as PostgresError {
        return error
    } catch {
        Issue.record("expected a PostgresError, got \(type(of: error)): \(error)", sourceLocation: sourceLocation)
    }
    return nil
}
