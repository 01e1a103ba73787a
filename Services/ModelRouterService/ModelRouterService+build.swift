import Hummingbird
import Logging
import ServiceKit
import ServiceLifecycle

/// The whole wiring of the model-router service; tests call it with their own configuration.
///
/// Throws `ModelCatalogError` when the catalog file is missing or inconsistent.
func buildApplication(configuration: ModelRouterConfiguration) throws -> some ApplicationProtocol {
    let logger = Logger(label: "model-router")
    let catalog = try ModelCatalog.load(path: configuration.catalogPath)
    let dependencies = ServiceDependencies.open(configuration.service, logger: logger)
    let router = ServiceRouter.make(configuration: configuration.service, readiness: dependencies.readinessChecks)
    var services: [any Service] = []
    if let redis = dependencies.redis {
        let registry = RedisWorkerRegistry(redis: redis, key: configuration.keys.workers, ttl: configuration.heartbeatTTL, logger: logger)
        ModelController(catalog: catalog, registry: registry).addRoutes(to: router)
        RouteController(catalog: catalog, registry: registry, keys: configuration.keys).addRoutes(to: router)
        services.append(QueueDepthReporter(
            redis: redis, streams: catalog.pools.map(configuration.keys.queue), interval: configuration.queueDepthInterval, logger: logger
        ))
    }
    logger.info("model catalog loaded", metadata: ["models": "\(catalog.models.map(\.id).joined(separator: ","))"])
    return ServiceApplication.make(
        responder: router.buildResponder(), configuration: configuration.service, dependencies: dependencies,
        services: services, logger: logger
    )
}
