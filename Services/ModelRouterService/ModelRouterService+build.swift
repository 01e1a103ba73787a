import Hummingbird
import Logging
import ServiceKit

/// The whole wiring of the model-router service; tests call it with their own configuration.
func buildApplication(configuration: ModelRouterConfiguration) -> some ApplicationProtocol {
    let logger = Logger(label: "model-router")
    let dependencies = ServiceDependencies.open(configuration.service, logger: logger)
    let router = ServiceRouter.make(configuration: configuration.service, readiness: dependencies.readinessChecks)
    return ServiceApplication.make(
        responder: router.buildResponder(), configuration: configuration.service, dependencies: dependencies, logger: logger
    )
}
