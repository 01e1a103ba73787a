import ServiceKit

/// Everything the gallery reads from the environment.
struct GalleryConfiguration: Sendable {
    var service: ServiceConfiguration
    /// Root of the filesystem image storage (the ai-worker writes `<user id>/<image id>.png` there).
    var storageDirectory: String
    /// The stream of `generation.completed` events and this service's consumer group on it.
    var eventsStream = "pingvas:events:generation"
    var consumerGroup = "gallery"
    /// Events pending longer than this on a consumer that died are claimed by another replica.
    var eventLease: Duration

    init(reader: inout ConfigurationReader) {
        service = .read(serviceID: "gallery", defaultPort: 8084, needsDatabase: true, needsRedis: true, from: &reader)
        storageDirectory = reader.string("PINGVAS_STORAGE_DIR")
        eventLease = reader.duration("PINGVAS_EVENT_LEASE", default: .seconds(60))
    }
}
