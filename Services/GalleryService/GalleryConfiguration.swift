import Foundation
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
    /// `PINGVAS_MODERATION_BLOCKLIST`: comma-separated terms (whole words, any case) that keep an
    /// image from becoming public when its prompt, title or tags contain one.
    var moderationBlocklist: [String] = []
    /// `PINGVAS_MODERATION_URL`: the external classifier asked before an image becomes public; unset: none.
    var moderationURL: String?
    /// `PINGVAS_MODERATION_TIMEOUT`: limit of one classifier call (default 3s; three attempts).
    var moderationTimeout: Duration = .seconds(3)
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
        moderationBlocklist = (reader.optionalString("PINGVAS_MODERATION_BLOCKLIST") ?? "").split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        moderationURL = reader.optionalString("PINGVAS_MODERATION_URL")
        if let moderationURL, !(moderationURL.hasPrefix("http://") || moderationURL.hasPrefix("https://")) {
            reader.reject("PINGVAS_MODERATION_URL", because: "an http:// or https:// URL")
        }
        moderationTimeout = reader.duration("PINGVAS_MODERATION_TIMEOUT", default: .seconds(3))
        cdnBaseURL = reader.optionalString("PINGVAS_CDN_BASE_URL").map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        if let cdnBaseURL, !(cdnBaseURL.hasPrefix("https://") || cdnBaseURL.hasPrefix("http://")) {
            reader.reject("PINGVAS_CDN_BASE_URL", because: "an http:// or https:// URL")
        }
        eventLease = reader.duration("PINGVAS_EVENT_LEASE", default: .seconds(60))
    }
}
