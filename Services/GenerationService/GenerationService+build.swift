import Core
import HTTPClient
import Hummingbird
import Logging
import RedisClient
import ServiceKit
import ServiceLifecycle

/// The whole wiring of the generation service; tests call it with their own configuration.
func buildApplication(configuration: GenerationConfiguration, logger: Logger? = nil) async throws -> some ApplicationProtocol {
    let logger = logger ?? configuration.service.makeLogger()
    let dependencies = ServiceDependencies.open(configuration.service, logger: logger)
    let postgres = try dependencies.requirePostgres()
    let redis = try dependencies.requireRedis()
    let migrations = MigrationService(
        pool: postgres, schema: configuration.service.databaseSchema, migrations: GenerationMigrations.all, logger: logger
    )
    let ready: @Sendable () -> Bool = { migrations.isDone }
    let http = CurlHTTPClient(configuration: HTTPClientConfiguration(defaultTimeout: configuration.upstreamTimeout), logger: logger)
    // One pub/sub connection per process, shared by every SSE stream.
    let subscriber = RedisSubscriber(configuration: redis.configuration, logger: logger)

    let jobs = PostgresJobRepository(pool: postgres)
    let ledger = UserClient(baseURL: configuration.userURL, http: http, timeout: configuration.upstreamTimeout, trust: configuration.service.trust)
    let settler = CreditSettler(jobs: jobs, ledger: ledger, logger: logger)
    let notifier = JobNotifier(redis: redis, keys: configuration.keys, logger: logger)
    let queue = RedisJobQueue(redis: redis, keys: configuration.keys, policy: configuration.scheduling)
    let estimator = QueueEstimator(
        queue: queue, registry: RedisWorkerRegistry(redis: redis, key: configuration.keys.workers, logger: logger), logger: logger
    )
    let signal = OutboxSignal()
    let webhooks = PostgresWebhookRepository(pool: postgres)
    let webhookTarget = WebhookTarget(allowedHosts: configuration.webhookAllowedHosts)
    var controller = JobController(
        jobs: jobs,
        router: ModelRouterClient(
            baseURL: configuration.modelRouterURL, http: http, timeout: configuration.upstreamTimeout, trust: configuration.service.trust),
        ledger: ledger, settler: settler, notifier: notifier, redis: redis, subscriber: subscriber, queue: queue, signal: signal,
        estimator: estimator, configuration: configuration, logger: logger
    )
    controller.ownWebhooks = OwnWebhooks(repository: webhooks, target: webhookTarget)
    controller.initImages = configuration.galleryURL.map {
        GalleryClient(baseURL: $0, http: http, trust: configuration.service.trust, timeout: configuration.upstreamTimeout)
    }

    let router = ServiceRouter.make(configuration: configuration.service, readiness: dependencies.readinessChecks + [migrations.readinessCheck])
    router.addRoutes(controller.routes, atPath: "/api/v1/generations")
    router.addRoutes(InternalJobController(jobs: jobs).routes, atPath: "/internal/jobs")
    router.addRoutes(AdminJobController(jobs: jobs, queue: queue, submitter: controller).routes, atPath: "/api/v1/admin/jobs")
    router.addRoutes(WebhookController(webhooks: webhooks, target: webhookTarget).routes, atPath: "/api/v1/webhooks")

    // Shutdown runs in reverse: server, consumer, relay, then the clients, migrations and pools.
    let services: [any Service] = [
        migrations,
        ShutdownHook {
            await subscriber.close()
            await http.shutdown()
        },
        OutboxRelay(
            outbox: PostgresOutboxRepository(pool: postgres), redis: redis, keys: configuration.keys, interval: configuration.outboxInterval,
            signal: signal, keepSent: { configuration.keys.pool(ofQueue: $0) != nil }, deliver: JobEnqueuer(queue: queue, enqueued: { estimator.enqueued(pool: $0) }).deliver,
            ready: ready, logger: logger
        ),
        ResultsConsumer(
            redis: redis, keys: configuration.keys, jobs: jobs, settler: settler, notifier: notifier, lease: configuration.resultLease,
            retries: configuration.retries, signal: signal,
            gallery: configuration.galleryURL.map { GalleryClient(baseURL: $0, http: http, trust: configuration.service.trust) },
            ready: ready, logger: logger
        ),
        JobReconciler(
            jobs: jobs, queue: queue, settler: settler, notifier: notifier, signal: signal, interval: configuration.reconcileInterval,
            lostJobGrace: configuration.lostJobGrace, maxDeliveries: configuration.maxDeliveries, ready: ready, logger: logger,
            pageSize: configuration.reconcilePageSize
        ),
        WebhookDispatcher(
            webhooks: webhooks, jobs: jobs, http: http, target: webhookTarget, interval: .milliseconds(500),
            retryBase: configuration.webhookRetryBase, ready: ready, logger: logger
        ),
        UserDeletedConsumer(
            webhooks: webhooks, redis: redis, stream: configuration.keys.userEvents, deadLetterStream: configuration.keys.eventsDeadLetter,
            ready: ready, logger: logger
        ),
    ]
    return ServiceApplication.make(
        responder: router.buildResponder(), configuration: configuration.service, dependencies: dependencies,
        services: services, logger: logger
    )
}
