import Foundation
import ServiceKit

/// Everything the payment-webhook service reads from the environment.
struct PaymentWebhookConfiguration: Sendable {
    var service: ServiceConfiguration
    /// Lemon Squeezy's webhook signing secret (`X-Signature` is HMAC-SHA256 of the raw body with it).
    var signingSecret: String
    /// Whether `meta.test_mode` deliveries are applied; when false they are stored as `ignored`.
    var acceptTestMode: Bool
    /// What each Lemon Squeezy variant sells, by variant id.
    var variants: VariantCatalog
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
}
