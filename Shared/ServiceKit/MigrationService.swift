package import Logging
package import PostgresClient
import ServiceLifecycle
import Synchronization

/// Applies a service's migrations at start-up, retrying with backoff until PostgreSQL answers.
///
/// Until they are applied, `readinessCheck` fails, so no traffic reaches a service whose tables
/// are not there yet. The migrator's advisory lock keeps replicas that start together from racing.
package final class MigrationService: Service, Sendable {
    private let pool: PostgresPool
    private let schema: String
    private let migrations: [Migration]
    private let logger: Logger
    private let done = Mutex(false)

    package init(pool: PostgresPool, schema: String, migrations: [Migration], logger: Logger) {
        self.pool = pool
        self.schema = schema
        self.migrations = migrations
        self.logger = logger
    }

    package var isDone: Bool { done.withLock { $0 } }

    package var readinessCheck: ReadinessCheck {
        ReadinessCheck("migrations") { [self] in
            guard isDone else { throw MigrationPending() }
        }
    }

    package func run() async throws {
        var delay = Duration.milliseconds(200)
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                let applied = try await PostgresMigrator(pool: pool, schema: schema, logger: logger).migrate(migrations)
                logger.info("migrations up to date", metadata: ["schema": "\(schema)", "applied": "\(applied)"])
                done.withLock { $0 = true }
                break
            } catch {
                logger.warning("migrations failed; retrying", metadata: ["error": "\(error)", "retry_in": "\(delay)"])
                let wait = delay
                await Background.pause(wait)
                delay = min(delay * 2, .seconds(10))
            }
        }
        // Stay in the group until shutdown, so finishing is not mistaken for a failure.
        try? await gracefulShutdown()
    }
}

struct MigrationPending: Error, CustomStringConvertible {
    var description: String { "migrations not applied yet" }
}
