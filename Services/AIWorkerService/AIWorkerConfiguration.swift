import ServiceKit

/// Everything the ai-worker service reads from the environment.
struct AIWorkerConfiguration: Sendable {
    var service: ServiceConfiguration

    init(reader: inout ConfigurationReader) {
        service = .read(serviceID: "ai-worker", defaultPort: 8086, needsDatabase: false, needsRedis: true, from: &reader)
    }
}
