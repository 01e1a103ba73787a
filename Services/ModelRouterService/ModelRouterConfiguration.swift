import ServiceKit

/// Everything the model-router service reads from the environment.
struct ModelRouterConfiguration: Sendable {
    var service: ServiceConfiguration

    init(reader: inout ConfigurationReader) {
        service = .read(serviceID: "model-router", defaultPort: 8085, needsDatabase: false, needsRedis: true, from: &reader)
    }
}
