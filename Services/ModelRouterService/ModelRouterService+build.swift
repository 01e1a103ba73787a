import Core
import Hummingbird
import Logging
import ServiceKit

/// The whole wiring of the model-router; tests call it with their own configuration.
///
/// Throws `ModelCatalogError` when the catalog file is missing or inconsistent, or `styles.json`
/// beside it is inconsistent (a missing one is no styles).
func buildApplication(configuration: ModelRouterConfiguration, logger: Logger? = nil) async throws -> some ApplicationProtocol {
    let logger = logger ?? configuration.service.makeLogger()
    let catalog = try ModelCatalog.load(path: configuration.catalogPath)
    let styles = try StyleCatalog.load(path: StyleCatalog.path(besideCatalog: configuration.catalogPath))
    let dependencies = ServiceDependencies.open(configuration.service, logger: logger)
    let redis = try dependencies.requireRedis()
    let registry = RedisWorkerRegistry(redis: redis, key: configuration.keys.workers, ttl: configuration.heartbeatTTL, logger: logger)

    // KEDA polls the queue depths without a service credential (counts only; the NetworkPolicy admits it).
    let router = ServiceRouter.make(
        configuration: configuration.service, readiness: dependencies.readinessChecks, openInternalReads: ["/internal/queues/"])
    let queue = RedisJobQueue(redis: redis, keys: configuration.keys)
    router.addRoutes(ModelController(catalog: catalog, registry: registry, queue: queue).routes, atPath: "/api/v1/models")
    router.addRoutes(StyleController(styles: styles).routes, atPath: "/api/v1/styles")
    router.addRoutes(RouteController(catalog: catalog, styles: styles, registry: registry).routes, atPath: "/internal/route")
    router.addRoutes(QueueController(queue: queue, catalog: catalog).routes, atPath: "/internal/queues")

    let depths = QueueDepthReporter(
        queue: queue, pools: catalog.pools, interval: configuration.queueDepthInterval,
        logger: logger, registry: registry, catalog: catalog
    )
    logger.info("model catalog loaded", metadata: [
        "models": "\(catalog.models.map(\.id).joined(separator: ","))", "styles": "\(styles.styles.map(\.id).joined(separator: ","))",
    ])
    return ServiceApplication.make(
        responder: router.buildResponder(), configuration: configuration.service, dependencies: dependencies,
        services: [depths], logger: logger
    )
}
