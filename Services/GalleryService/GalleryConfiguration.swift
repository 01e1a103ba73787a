import Core
import ServiceKit

/// Everything the gallery reads from the environment.
struct GalleryConfiguration: ServiceConfigurationProtocol {
    var service: ServiceConfiguration
    /// Root of the filesystem image storage (the ai-worker writes `<user id>/<image id>.png` there).
    var storageDirectory: String
    /// Redis names (the `generation.completed` stream); only tests change the namespace.
    var keys = PipelineKeys()
    /// Events pending longer than this on a consumer that died are claimed by another replica.
    var eventLease: Duration

    init(reader: inout ConfigurationReader) {
        service = .read(serviceID: "gallery", defaultPort: 8084, needsDatabase: true, needsRedis: true, from: &reader)
        storageDirectory = reader.string("PINGVAS_STORAGE_DIR")
        eventLease = reader.duration("PINGVAS_EVENT_LEASE", default: .seconds(60))
    }
}
