import Core
import ServiceKit

/// Everything the gallery reads from the environment.
struct GalleryConfiguration: ServiceConfigurationProtocol {
    var service: ServiceConfiguration
    /// Where the images are (`PINGVAS_STORAGE_URL`, or the folder `PINGVAS_STORAGE_DIR`); the ai-worker writes there.
    var storage: StorageConfiguration
    /// `PINGVAS_STORAGE_PRESIGN_TTL`: how long a presigned content URL stays valid (default 5m).
    var presignTTL: Duration
    /// `PINGVAS_CDN_BASE_URL`: public images are redirected to `<base>/<object>` when set (S3 only).
    var cdnBaseURL: String?
    /// `PINGVAS_GENERATION_URL`: where remixes are submitted; unset, remix answers 503.
    var generationURL: String?
    /// Redis names (the `generation.completed` stream); only tests change the namespace.
    var keys = PipelineKeys()
    /// Events pending longer than this on a consumer that died are claimed by another replica.
    var eventLease: Duration

    init(reader: inout ConfigurationReader) {
        service = .read(serviceID: "gallery", defaultPort: 8084, needsDatabase: true, needsRedis: true, from: &reader)
        storage = StorageConfiguration.read(from: &reader)
        presignTTL = reader.duration("PINGVAS_STORAGE_PRESIGN_TTL", default: .seconds(300))
        if presignTTL < .seconds(1) || presignTTL > .seconds(604_800) {
            reader.reject("PINGVAS_STORAGE_PRESIGN_TTL", because: "from 1s to 7 days")
        }
        generationURL = reader.optionalString("PINGVAS_GENERATION_URL").map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        if let generationURL, !(generationURL.hasPrefix("http://") || generationURL.hasPrefix("https://")) {
            reader.reject("PINGVAS_GENERATION_URL", because: "an http:// or https:// URL")
        }
        cdnBaseURL = reader.optionalString("PINGVAS_CDN_BASE_URL").map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        if let cdnBaseURL, !(cdnBaseURL.hasPrefix("https://") || cdnBaseURL.hasPrefix("http://")) {
            reader.reject("PINGVAS_CDN_BASE_URL", because: "an http:// or https:// URL")
        }
        eventLease = reader.duration("PINGVAS_EVENT_LEASE", default: .seconds(60))
    }
}
