import Core
import Foundation
import ServiceKit

/// Everything the payment-webhook service reads from the environment.
struct PaymentWebhookConfiguration: ServiceConfigurationProtocol {
    var service: ServiceConfiguration
    /// Lemon Squeezy's webhook signing secret (`X-Signature` is HMAC-SHA256 of the raw body with it).
    var signingSecret: String
    /// Whether `meta.test_mode` deliveries are applied; when false they are stored as `ignored`.
    var acceptTestMode: Bool
    /// What each Lemon Squeezy variant sells, by variant id.
    var variants: VariantCatalog
    /// Lemon Squeezy API key for creating checkouts; nil leaves checkout off (local stacks without a store).
    var apiKey: String?
    /// The Lemon Squeezy store checkouts are created in; required once an API key is set.
    var storeID: String
    /// Lemon Squeezy API base, without `/v1` (a trailing `/v1` is tolerated and dropped).
    var apiURL: String
    /// Where the user service listens (`/internal/credits/grants`).
    var userURL: String
    /// Time the user service has to answer a grant.
    var upstreamTimeout: Duration
    /// Largest webhook body accepted.
    var maxBodyBytes: Int
    /// How often the processor looks for due deliveries.
    var pollInterval: Duration
    /// First retry delay of a failed delivery; doubles per attempt up to `retryCap`.
    var retryBase: Duration
    var retryCap: Duration
    /// Attempts after which a delivery is marked `failed` (kept, never deleted).
    var maxAttempts: Int
    /// Redis names (the `plan.changed` stream); only tests change the namespace.
    var keys = PipelineKeys()

    init(reader: inout ConfigurationReader) {
        service = .read(serviceID: "payment-webhook", defaultPort: 8083, needsDatabase: true, needsRedis: true, from: &reader)
        signingSecret = reader.string("PINGVAS_LEMONSQUEEZY_SIGNING_SECRET", secret: true)
        acceptTestMode = reader.bool("PINGVAS_LEMONSQUEEZY_ACCEPT_TEST_MODE", default: false)
        let variantsText = reader.string("PINGVAS_LEMONSQUEEZY_VARIANTS", default: "{}")
        do {
            variants = try VariantCatalog(json: Array(variantsText.utf8))
        } catch {
            variants = VariantCatalog(offers: [:])
            reader.reject("PINGVAS_LEMONSQUEEZY_VARIANTS", because: "\(error)")
        }
        apiKey = reader.optionalString("PINGVAS_LEMONSQUEEZY_API_KEY", secret: true)
        storeID = reader.optionalString("PINGVAS_LEMONSQUEEZY_STORE_ID") ?? ""
        if apiKey != nil && storeID.isEmpty { reader.reject("PINGVAS_LEMONSQUEEZY_STORE_ID", because: "required with PINGVAS_LEMONSQUEEZY_API_KEY") }
        if !storeID.isEmpty && Int64(storeID) == nil { reader.reject("PINGVAS_LEMONSQUEEZY_STORE_ID", because: "a numeric store id") }
        apiURL = Self.apiBase(reader.string("PINGVAS_LEMONSQUEEZY_API_URL", default: "https://api.lemonsqueezy.com"))
        if !apiURL.hasPrefix("https://") && !apiURL.hasPrefix("http://") {
            reader.reject("PINGVAS_LEMONSQUEEZY_API_URL", because: "an http or https URL")
        }
        userURL = reader.string("PINGVAS_USER_URL")
        upstreamTimeout = reader.duration("PINGVAS_UPSTREAM_TIMEOUT", default: .seconds(10))
        maxBodyBytes = reader.int("PINGVAS_WEBHOOK_MAX_BODY_BYTES", default: 1 << 20)
        pollInterval = reader.duration("PINGVAS_WEBHOOK_POLL_INTERVAL", default: .milliseconds(500))
        retryBase = reader.duration("PINGVAS_WEBHOOK_RETRY_BASE", default: .seconds(5))
        retryCap = reader.duration("PINGVAS_WEBHOOK_RETRY_CAP", default: .seconds(3600))
        maxAttempts = reader.int("PINGVAS_WEBHOOK_MAX_ATTEMPTS", default: 12)
        if maxAttempts < 1 { reader.reject("PINGVAS_WEBHOOK_MAX_ATTEMPTS", because: "at least 1") }
        if maxBodyBytes < 1024 { reader.reject("PINGVAS_WEBHOOK_MAX_BODY_BYTES", because: "at least 1024") }
    }

    /// `url` without trailing slashes or `/v1`: the manifests write the API root as `.../v1`.
    static func apiBase(_ url: String) -> String {
        var base = Substring(url)
        while base.hasSuffix("/") { base = base.dropLast() }
        if base.hasSuffix("/v1") { base = base.dropLast(3) }
        return String(base)
    }
}
