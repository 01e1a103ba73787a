import Hummingbird
import Logging
import ServiceKit

/// The whole wiring of the ai-worker; tests call it with their own configuration.
///
/// Throws when `PINGVAS_MODEL_CATALOG` names a file that cannot be used.
func buildApplication(configuration: AIWorkerConfiguration, logger: Logger? = nil) async throws -> some ApplicationProtocol {
    let logger = logger ?? configuration.service.makeLogger()
    let dependencies = ServiceDependencies.open(configuration.service, logger: logger)
    let redis = try dependencies.requireRedis()
    let router = ServiceRouter.make(configuration: configuration.service, readiness: dependencies.readinessChecks)
    return ServiceApplication.make(
        responder: router.buildResponder(), configuration: configuration.service, dependencies: dependencies,
        services: try AIWorkerServices.make(configuration: configuration, redis: redis, logger: logger), logger: logger
    )
}
