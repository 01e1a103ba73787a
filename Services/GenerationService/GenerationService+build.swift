import Hummingbird
import Logging
import ServiceKit

/// The whole wiring of the generation service; tests call it with their own configuration.
func buildApplication(configuration: GenerationConfiguration) -> some ApplicationProtocol {
    let logger = Logger(label: "generation")
    let dependencies = ServiceDependencies.open(configuration.service, logger: logger)
    let router = ServiceRouter.make(configuration: configuration.service, readiness: dependencies.readinessChecks)
    return ServiceApplication.make(
        responder: router.buildResponder(), configuration: configuration.service, dependencies: dependencies, logger: logger
    )
}
