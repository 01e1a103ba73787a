package import Logging
package import PostgresClient
package import RedisClient

/// The pools a service holds, opened from its configuration and closed after the server drained.
///
/// Pools connect lazily, so opening them never blocks start-up on a server that is down: the
/// service starts, `/readyz` says what is missing, and requests succeed once it is back.
package struct ServiceDependencies: Sendable {
    package let postgres: PostgresPool?
    package let redis: RedisPool?

    package init(postgres: PostgresPool?, redis: RedisPool?) {
        self.postgres = postgres
        self.redis = redis
    }

    package static func open(_ configuration: ServiceConfiguration, logger: Logger) -> ServiceDependencies {
        let postgres = configuration.databaseURL.map { url in
            PostgresPool(
                configuration: PostgresConfiguration(
                    url: url, schema: configuration.databaseSchema, maxConnections: configuration.databasePoolSize,
                    applicationName: configuration.serviceID
                ),
                logger: logger
            )
        }
        let redis = configuration.redisURL.map { url in
            RedisPool(configuration: configuration.redisConfiguration(url: url, maxConnections: configuration.redisPoolSize), logger: logger)
        }
        return ServiceDependencies(postgres: postgres, redis: redis)
    }

    /// The PostgreSQL pool of a service that owns tables; throws when `PINGVAS_DATABASE_URL` was not read.
    package func requirePostgres() throws(StartupError) -> PostgresPool {
        guard let postgres else { throw StartupError("this service needs PINGVAS_DATABASE_URL") }
        return postgres
    }

    /// The Redis pool; throws when `PINGVAS_REDIS_URL` was not read.
    package func requireRedis() throws(StartupError) -> RedisPool {
        guard let redis else { throw StartupError("this service needs PINGVAS_REDIS_URL") }
        return redis
    }

    /// `postgres` and `redis` checks for the pools this service has.
    package var readinessChecks: [ReadinessCheck] {
        var checks: [ReadinessCheck] = []
        if let postgres { checks.append(ReadinessCheck("postgres") { try await postgres.ping() }) }
        if let redis { checks.append(ReadinessCheck("redis") { try await redis.ping() }) }
        return checks
    }

    package func close() async {
        await postgres?.close()
        await redis?.close()
    }
}
