import Logging
import PostgresClient
import Testing
import TestSupport

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
