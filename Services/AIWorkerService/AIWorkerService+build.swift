import Hummingbird
import Logging
import ServiceKit
import ServiceLifecycle

/// The whole wiring of the ai-worker service; tests call it with their own configuration.
///
/// Throws when `PINGVAS_MODEL_CATALOG` names a file that cannot be read.
func buildApplication(configuration: AIWorkerConfiguration) throws -> some ApplicationProtocol {
    let logger = Logger(label: "ai-worker")
    let dependencies = ServiceDependencies.open(configuration.service, logger: logger)
    let router = ServiceRouter.make(configuration: configuration.service, readiness: dependencies.readinessChecks)
    var services: [any Service] = []
    if let redis = dependencies.redis {
        services = try AIWorkerServices.make(configuration: configuration, redis: redis, logger: logger)
    }
    return ServiceApplication.make(
        responder: router.buildResponder(), configuration: configuration.service, dependencies: dependencies,
        services: services, logger: logger
    )
}
