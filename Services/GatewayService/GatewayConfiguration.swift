import ServiceKit

/// Everything the gateway service reads from the environment.
struct GatewayConfiguration: Sendable {
    var service: ServiceConfiguration

    init(reader: inout ConfigurationReader) {
        service = .read(serviceID: "gateway", defaultPort: 8080, needsDatabase: false, needsRedis: true, from: &reader)
    }
}
