import Hummingbird
import Logging
import ServiceKit

/// The whole wiring of the gateway service; tests call it with their own configuration.
func buildApplication(configuration: GatewayConfiguration) -> some ApplicationProtocol {
    let logger = Logger(label: "gateway")
    let dependencies = ServiceDependencies.open(configuration.service, logger: logger)
    let router = ServiceRouter.make(configuration: configuration.service, readiness: dependencies.readinessChecks)
    return ServiceApplication.make(
        responder: router.buildResponder(), configuration: configuration.service, dependencies: dependencies, logger: logger
    )
}
