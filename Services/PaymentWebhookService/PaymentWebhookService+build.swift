import Core
import HTTPClient
import Hummingbird
import Logging
import ServiceKit
import ServiceLifecycle

/// The whole wiring of the payment-webhook service; tests call it with their own configuration
/// and, to read what the service logs, their own `logger`.
func buildApplication(configuration: PaymentWebhookConfiguration, logger: Logger? = nil) async throws -> some ApplicationProtocol {
    let logger = logger ?? configuration.service.makeLogger()
    let dependencies = ServiceDependencies.open(configuration.service, logger: logger)
    let postgres = try dependencies.requirePostgres()
    let redis = try dependencies.requireRedis()
    let migrations = MigrationService(
        pool: postgres, schema: configuration.service.databaseSchema, migrations: PaymentMigrations.all, logger: logger
    )
    let http = CurlHTTPClient(configuration: HTTPClientConfiguration(defaultTimeout: configuration.upstreamTimeout), logger: logger)
    let deliveries = PostgresDeliveryRepository(pool: postgres)
    let api = configuration.apiKey.map {
        LemonSqueezyAPIClient(apiURL: configuration.apiURL, apiKey: $0, storeID: configuration.storeID, http: http, timeout: configuration.upstreamTimeout)
    }
    if api == nil {
        logger.warning(
            "checkout is off, and subscriptions of deleted accounts are recorded but not cancelled: PINGVAS_LEMONSQUEEZY_API_KEY is not set"
        )
    }

    let router = ServiceRouter.make(configuration: configuration.service, readiness: dependencies.readinessChecks + [migrations.readinessCheck])
    router.addRoutes(
        WebhookController(
            repository: deliveries, signature: WebhookSignature(secret: configuration.signingSecret),
            acceptTestMode: configuration.acceptTestMode, maxBodyBytes: configuration.maxBodyBytes
        ).routes,
        atPath: "/webhooks/lemonsqueezy"
    )
    router.addRoutes(BillingController(subscriptions: PostgresSubscriptionRepository(pool: postgres)).routes, atPath: "/api/v1/billing/subscription")
    router.addRoutes(CheckoutController(client: api, variants: configuration.variants).routes, atPath: "/api/v1/billing/checkout")
    router.addRoutes(
        DeliveryAdminController(repository: deliveries, acceptTestMode: configuration.acceptTestMode).routes,
        atPath: "/api/v1/billing/admin/deliveries"
    )

    let applier = EventApplier(
        variants: configuration.variants, credits: UserCreditsClient(
            baseURL: configuration.userURL, http: http, timeout: configuration.upstreamTimeout, trust: configuration.service.trust),
        plans: PlanAnnouncer(stream: configuration.keys.planEvents), logger: logger
    )
    let processor = DeliveryProcessor(
        pool: postgres, applier: applier,
        pollInterval: configuration.pollInterval, retryBase: configuration.retryBase, retryCap: configuration.retryCap,
        maxAttempts: configuration.maxAttempts, ready: { migrations.isDone }, logger: logger
    )
    let relay = OutboxRelay(
        outbox: PostgresOutboxRepository(pool: postgres), redis: redis, keys: configuration.keys, interval: configuration.pollInterval, ready: { migrations.isDone },
        logger: logger
    )
    let gauges = SQLGaugeReporter(pool: postgres, gauges: [
        // Every status, zero included, so a series exists before its first row does.
        SQLGauge(
            "pingvas_webhook_deliveries", sql: """
                SELECT s.status AS dimension, count(d.id)::float8 AS value
                FROM unnest(ARRAY['pending', 'processed', 'failed', 'ignored', 'dead']) AS s(status)
                LEFT JOIN webhook_deliveries d ON d.status = s.status GROUP BY s.status
                """,
            dimension: "status"
        ),
        SQLGauge(
            "pingvas_subscriptions", sql: """
                SELECT s.status AS dimension, count(x.ls_subscription_id)::float8 AS value
                FROM (SELECT unnest(ARRAY['on_trial', 'active', 'paused', 'past_due', 'unpaid', 'cancelled', 'expired'])
                      UNION SELECT DISTINCT status FROM subscriptions) AS s(status)
                LEFT JOIN subscriptions x ON x.status = s.status GROUP BY s.status
                """,
            dimension: "status"
        ),
        // Live subscriptions of deleted accounts not yet cancelled at Lemon Squeezy (in flight or backing off).
        SQLGauge("pingvas_subscription_cancellations_due", sql: PostgresCancellationRepository.dueCountSQL),
    ], ready: { migrations.isDone }, logger: logger)
    // Deleted accounts: recorded from user's events, their subscriptions cancelled at Lemon Squeezy.
    let cancellations = PostgresCancellationRepository(pool: postgres)
    let deletions = UserDeletedConsumer(
        cancellations: cancellations,
        reader: EventStreamReader(
            redis: redis, stream: configuration.keys.userEvents, group: PipelineKeys.paymentGroup, lease: .seconds(60),
            deadLetterStream: configuration.keys.eventsDeadLetter, ready: { migrations.isDone }, logger: logger
        ),
        logger: logger
    )
    var background: [any Service] = [relay, processor, gauges, deletions]
    if let api {
        background.append(SubscriptionCanceller(
            repository: cancellations, client: api, interval: configuration.pollInterval,
            backoff: RetryBackoff(base: configuration.retryBase, cap: configuration.retryCap),
            lease: configuration.upstreamTimeout + .seconds(5), ready: { migrations.isDone }, logger: logger
        ))
    }
    // Shutdown runs in reverse: server (checkout), the background services, then the HTTP client, migrations and pools.
    return ServiceApplication.make(
        responder: router.buildResponder(), configuration: configuration.service, dependencies: dependencies,
        services: [migrations, ShutdownHook { await http.shutdown() }] + background, logger: logger
    )
}
