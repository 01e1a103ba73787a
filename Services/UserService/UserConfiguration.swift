import ServiceKit

/// Everything the user service reads from the environment.
struct UserConfiguration: Sendable {
    var service: ServiceConfiguration

    init(reader: inout ConfigurationReader) {
        service = .read(serviceID: "user", defaultPort: 8081, needsDatabase: true, needsRedis: true, from: &reader)
    }
}
