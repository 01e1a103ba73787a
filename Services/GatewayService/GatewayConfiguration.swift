import Core
import Foundation
import ServiceKit

/// Everything the gateway reads from the environment.
struct GatewayConfiguration: ServiceConfigurationProtocol {
    var service: ServiceConfiguration
    var jwtIssuer: String
    var jwtAudience: String
    var upstreams: [Upstream: String]
    /// Largest request body forwarded; larger ones get 413.
    var maxBodyBytes: Int
    /// Time an upstream has to send its response head (streams may then run on).
    var upstreamTimeout: Duration
    /// Requests per minute per client IP.
    var rateLimitPerIP: Int
    /// Requests per minute per user; 0 uses the user's plan (`Plan.requestsPerMinute`).
    var rateLimitPerUser: Int
    /// How many proxies in front of the gateway append to `X-Forwarded-For` (0: use the peer address).
    var trustedProxyHops: Int
    /// Origins allowed by CORS; empty allows none.
    var corsOrigins: [String]
    /// Origins besides the gateway's own that the studio page may load images from: where `/content`
    /// and `/thumbnail` redirect with S3 storage (the bucket's or `PINGVAS_S3_PUBLIC_ENDPOINT`'s origin,
    /// the CDN's). Added to the page's `img-src` and `connect-src`; empty with folder storage.
    var studioImageOrigins: [String] = []
    /// Event streams one caller may hold open at once (`PINGVAS_GATEWAY_MAX_STREAMS_PER_USER`); the
    /// next gets 429 `too-many-streams`. 0: no per-caller limit.
    var maxStreamsPerUser: Int
    /// Event streams open through this gateway in all, and the size of the stream client's
    /// connection budget (`PINGVAS_GATEWAY_MAX_STREAMS`); the next gets 503 `too-many-streams`.
    var maxStreams: Int
    /// Signups per hour from one network (an IPv4 /24, an IPv6 /64); 0: no limit.
    var signupsPerNetwork = 20
    /// How long user has to answer a key look-up (the JWKS, an API key), whatever
    /// `PINGVAS_UPSTREAM_TIMEOUT` says: long enough for a busy user, short enough not to hold requests.
    static let keyLookupTimeout: Duration = .seconds(5)
    /// How often the public keys of user's JWKS are fetched again (also at once for an unknown key id).
    var jwksRefreshInterval: Duration = .seconds(60)
    /// Redis names (rate-limit counters); only tests change the namespace.
    var keys = PipelineKeys()

    init(reader: inout ConfigurationReader) {
        service = .read(serviceID: "gateway", defaultPort: 8080, needsDatabase: false, needsRedis: true, from: &reader)
        jwtIssuer = reader.string("PINGVAS_JWT_ISSUER", default: "pingvas-user")
        jwtAudience = reader.string("PINGVAS_JWT_AUDIENCE", default: "pingvas")
        var upstreams: [Upstream: String] = [:]
        for upstream in Upstream.allCases {
            upstreams[upstream] = reader.string(upstream.configurationKey)
        }
        self.upstreams = upstreams
        maxBodyBytes = reader.int("PINGVAS_MAX_BODY_BYTES", default: 8 * 1024 * 1024)
        upstreamTimeout = reader.duration("PINGVAS_UPSTREAM_TIMEOUT", default: .seconds(30))
        rateLimitPerIP = reader.int("PINGVAS_RATE_LIMIT_PER_IP", default: 600)
        rateLimitPerUser = reader.int("PINGVAS_RATE_LIMIT_PER_USER", default: 0)
        trustedProxyHops = reader.int("PINGVAS_TRUSTED_PROXY_HOPS", default: 0)
        maxStreamsPerUser = max(reader.int("PINGVAS_GATEWAY_MAX_STREAMS_PER_USER", default: 64), 0)
        maxStreams = max(reader.int("PINGVAS_GATEWAY_MAX_STREAMS", default: 2048), 1)
        corsOrigins = (reader.optionalString("PINGVAS_CORS_ORIGINS") ?? "").split(separator: ",").map(String.init)
        studioImageOrigins = (reader.optionalString("PINGVAS_STUDIO_IMAGE_ORIGINS") ?? "").split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        if !studioImageOrigins.allSatisfy(Self.isOrigin) {
            reader.reject("PINGVAS_STUDIO_IMAGE_ORIGINS", because: "comma-separated origins: http(s)://host[:port], no path")
        }
    }
}

extension GatewayConfiguration {
    /// `http(s)://host[:port]` and nothing more, so it can stand in a Content-Security-Policy source list.
    static func isOrigin(_ text: String) -> Bool {
        text.range(of: #"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$"#, options: .regularExpression) != nil
    }
}

/// The services the gateway forwards to.
enum Upstream: String, CaseIterable, Sendable {
    case user, generation, paymentWebhook = "payment-webhook", gallery, modelRouter = "model-router"

    var configurationKey: String {
        "PINGVAS_\(rawValue.uppercased().replacingOccurrences(of: "-", with: "_"))_URL"
    }
}
