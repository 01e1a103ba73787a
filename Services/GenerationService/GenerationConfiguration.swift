import ServiceKit

/// Everything the generation service reads from the environment.
struct GenerationConfiguration: Sendable {
    var service: ServiceConfiguration

    init(reader: inout ConfigurationReader) {
        service = .read(serviceID: "generation", defaultPort: 8082, needsDatabase: true, needsRedis: true, from: &reader)
    }
}
