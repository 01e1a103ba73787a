import HTTPClient
import Hummingbird
import Logging
import ServiceKit
import ServiceLifecycle

/// The whole wiring of the payment-webhook service; tests call it with their own configuration
/// and, to read what the service logs, their own `logger`.
func buildApplication(configuration: PaymentWebhookConfiguration, logger: Logger? = nil) -> some ApplicationProtocol {
    let logger = logger ?? {
        var logger = Logger(label: "payment-webhook")
        logger.logLevel = configuration.service.logLevel
        return logger
    }()
    let dependencies = ServiceDependencies.open(configuration.service, logger: logger)
    guard let postgres = dependencies.postgres else { preconditionFailure("payment-webhook needs PINGVAS_DATABASE_URL") }
    let migrations = MigrationService(
        pool: postgres, schema: configuration.service.databaseSchema, migrations: PaymentMigrations.all, logger: logger
    )
    let http = CurlHTTPClient(configuration: HTTPClientConfiguration(defaultTimeout: configuration.upstreamTimeout), logger: logger)
    let credits = UserCreditsClient(baseURL: configuration.userURL, http: http, timeout: configuration.upstreamTimeout)

    let router = ServiceRouter.make(configuration: configuration.service, readiness: dependencies.readinessChecks + [migrations.readinessCheck])
    WebhookController(
        repository: PostgresDeliveryRepository(pool: postgres), signature: WebhookSignature(secret: configuration.signingSecret),
        acceptTestMode: configuration.acceptTestMode, maxBodyBytes: configuration.maxBodyBytes
    ).addRoutes(to: router)
    BillingController(subscriptions: PostgresSubscriptionRepository(pool: postgres)).addRoutes(to: router)
    let checkout = configuration.apiKey.map {
        LemonSqueezyCheckoutClient(apiURL: configuration.apiURL, apiKey: $0, storeID: configuration.storeID, http: http, timeout: configuration.upstreamTimeout)
    }
    if checkout == nil { logger.warning("checkout is off: PINGVAS_LEMONSQUEEZY_API_KEY is not set") }
    CheckoutController(client: checkout, variants: configuration.variants).addRoutes(to: router)
    DeliveryAdminController(repository: PostgresDeliveryRepository(pool: postgres), acceptTestMode: configuration.acceptTestMode)
        .addRoutes(to: router)

    let applier = EventApplier(
        variants: configuration.variants, credits: credits, plans: PlanAnnouncer(stream: configuration.planEventsStream), logger: logger
    )
    let processor = DeliveryProcessor(
        pool: postgres, applier: applier,
        pollInterval: configuration.pollInterval, retryBase: configuration.retryBase, retryCap: configuration.retryCap,
        maxAttempts: configuration.maxAttempts, ready: { migrations.isDone }, logger: logger
    )
    guard let redis = dependencies.redis else { preconditionFailure("payment-webhook needs PINGVAS_REDIS_URL") }
    let relay = OutboxRelay(
        outbox: PostgresOutboxRepository(pool: postgres), redis: redis, interval: configuration.pollInterval, ready: { migrations.isDone },
        logger: logger
    )
    // Shutdown runs in reverse: server (checkout), processor, relay, then the HTTP client, migrations and pools.
    return ServiceApplication.make(
        responder: router.buildResponder(), configuration: configuration.service, dependencies: dependencies,
        services: [migrations, HTTPClientCloser(http: http), relay, processor], logger: logger
    )
}

/// Shuts the HTTP client down once its users, the server (checkout) and the processor, have stopped.
struct HTTPClientCloser: Service {
    let http: CurlHTTPClient

    func run() async throws {
        try? await gracefulShutdown()
        await http.shutdown()
    }
}
