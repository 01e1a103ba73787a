import ServiceKit

/// Everything the gallery service reads from the environment.
struct GalleryConfiguration: Sendable {
    var service: ServiceConfiguration

    init(reader: inout ConfigurationReader) {
        service = .read(serviceID: "gallery", defaultPort: 8084, needsDatabase: true, needsRedis: true, from: &reader)
    }
}
