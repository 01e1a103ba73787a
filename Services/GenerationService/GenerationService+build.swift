import HTTPClient
import Hummingbird
import Logging
import PostgresClient
import RedisClient
import ServiceKit
import ServiceLifecycle

/// The whole wiring of the generation service; tests call it with their own configuration.
func buildApplication(configuration: GenerationConfiguration) -> some ApplicationProtocol {
    var logger = Logger(label: "generation")
    logger.logLevel = configuration.service.logLevel
    let dependencies = ServiceDependencies.open(configuration.service, logger: logger)
    guard let postgres = dependencies.postgres, let redis = dependencies.redis, let redisURL = configuration.service.redisURL else {
        preconditionFailure("generation needs PINGVAS_DATABASE_URL and PINGVAS_REDIS_URL")
    }
    let migrations = MigrationService(
        pool: postgres, schema: configuration.service.databaseSchema, migrations: GenerationMigrations.all, logger: logger
    )
    let ready: @Sendable () -> Bool = { migrations.isDone }
    let http = CurlHTTPClient(configuration: HTTPClientConfiguration(defaultTimeout: configuration.upstreamTimeout), logger: logger)
    // One pub/sub connection per process, shared by every SSE stream.
    let subscriber = RedisSubscriber(configuration: RedisConfiguration(url: redisURL), logger: logger)

    let jobs = PostgresJobRepository(pool: postgres)
    let ledger = UserClient(baseURL: configuration.userURL, http: http, timeout: configuration.upstreamTimeout)
    let settler = CreditSettler(jobs: jobs, ledger: ledger, logger: logger)
    let notifier = JobNotifier(redis: redis, keys: configuration.keys, logger: logger)
    let controller = JobController(
        jobs: jobs,
        router: ModelRouterClient(baseURL: configuration.modelRouterURL, http: http, timeout: configuration.upstreamTimeout),
        ledger: ledger, settler: settler, notifier: notifier, redis: redis, subscriber: subscriber,
        configuration: configuration, logger: logger
    )

    let router = ServiceRouter.make(
        configuration: configuration.service, readiness: dependencies.readinessChecks + [migrations.readinessCheck]
    )
    controller.addRoutes(to: router.group("/api/v1/generations"))

    // Shutdown runs in reverse: server, consumer, relay, then the clients, migrations and pools.
    let services: [any Service] = [
        migrations,
        ClientCloser(http: http, subscriber: subscriber),
        OutboxRelay(
            outbox: PostgresOutboxRepository(pool: postgres), redis: redis, interval: configuration.outboxInterval, ready: ready,
            logger: logger
        ),
        ResultsConsumer(
            redis: redis, keys: configuration.keys, jobs: jobs, settler: settler, notifier: notifier,
            lease: configuration.resultLease, ready: ready, logger: logger
        ),
    ]
    return ServiceApplication.make(
        responder: router.buildResponder(), configuration: configuration.service, dependencies: dependencies,
        services: services, logger: logger
    )
}

/// Closes the HTTP client and the pub/sub subscriber once everything that uses them has stopped.
struct ClientCloser: Service {
    let http: CurlHTTPClient
    let subscriber: RedisSubscriber

    func run() async throws {
        try? await gracefulShutdown()
        await subscriber.close()
        await http.shutdown()
    }
}
