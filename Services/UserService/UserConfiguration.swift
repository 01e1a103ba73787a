import Core
import Foundation
import PingvasCrypto
import ServiceKit

/// Everything the user service reads from the environment.
struct UserConfiguration: ServiceConfigurationProtocol {
    var service: ServiceConfiguration
    /// `PINGVAS_JWT_SIGNING_KEY`: the Ed25519 private key (32 bytes, base64) access tokens are
    /// signed with. Only this service holds it; the gateway verifies with the public keys of
    /// `GET /internal/jwks`.
    var jwtSigningKey: String
    /// `PINGVAS_JWT_PREVIOUS_KEYS`: Ed25519 public keys (base64, comma-separated) still published
    /// in the JWKS after a rotation, so tokens signed with them stay valid until they expire.
    var jwtPreviousPublicKeys: [String]
    var jwtIssuer: String
    var jwtAudience: String
    /// Credits every new account starts with.
    var signupCredits: Int64
    /// scrypt cost as log2(N); 17 by default (OWASP's minimum: 128 MiB and a few hundred ms per hash).
    var passwordHashCost: Int
    /// Google and Discord sign-in (`PINGVAS_OAUTH_*`).
    var oauth: OAuthSettings
    /// How often suspended users are written to Redis again (`SuspensionPublisher`).
    var suspensionRepublishInterval: Duration = .seconds(30)
    /// Per-account login throttling (`LoginThrottle`); only tests change it.
    var loginThrottle = LoginThrottle.Policy()
    var accessTokenLifetime: Duration
    var refreshTokenLifetime: Duration
    /// Redis names (the `plan.changed` stream); only tests change the namespace.
    var keys = PipelineKeys()
    /// A plan event pending this long on a dead replica is claimed by another.
    var planEventLease = Duration.seconds(60)
    /// Where generation listens (`PINGVAS_GENERATION_URL`): a hold older than `orphanHoldAfter`
    /// whose job generation does not know is released (the job was never written). Unset: no sweep.
    var generationURL: String?
    /// `PINGVAS_ORPHAN_HOLD_AFTER` (default 10m).
    var orphanHoldAfter: Duration = .seconds(600)
    /// How often holds are swept: half of `orphanHoldAfter`, at most 30 s.
    var orphanHoldSweepInterval: Duration = .seconds(30)

    init(reader: inout ConfigurationReader) {
        service = .read(serviceID: "user", defaultPort: 8081, needsDatabase: true, needsRedis: true, from: &reader)
        jwtSigningKey = reader.string("PINGVAS_JWT_SIGNING_KEY", secret: true)
        if !jwtSigningKey.isEmpty && (try? Ed25519KeyPair(privateKeyBase64: jwtSigningKey)) == nil {
            reader.reject("PINGVAS_JWT_SIGNING_KEY", because: "an Ed25519 private key: 32 bytes of base64")
        }
        jwtPreviousPublicKeys = (reader.optionalString("PINGVAS_JWT_PREVIOUS_KEYS") ?? "").split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        if jwtPreviousPublicKeys.contains(where: { Ed25519KeyPair.keyID(publicKeyBase64: $0) == nil }) {
            reader.reject("PINGVAS_JWT_PREVIOUS_KEYS", because: "Ed25519 public keys, 32 bytes of base64 each, comma-separated")
        }
        jwtIssuer = reader.string("PINGVAS_JWT_ISSUER", default: "pingvas-user")
        jwtAudience = reader.string("PINGVAS_JWT_AUDIENCE", default: "pingvas")
        let credits = reader.int("PINGVAS_SIGNUP_CREDITS", default: 100)
        if credits < 0 { reader.reject("PINGVAS_SIGNUP_CREDITS", because: "must not be negative") }
        signupCredits = Int64(max(credits, 0))
        passwordHashCost = reader.int("PINGVAS_PASSWORD_HASH_COST", default: 17)
        if !(10...20).contains(passwordHashCost) {
            reader.reject("PINGVAS_PASSWORD_HASH_COST", because: "scrypt log2(N) between 10 and 20")
        }
        oauth = OAuthSettings(reader: &reader)
        generationURL = reader.optionalString("PINGVAS_GENERATION_URL")
        orphanHoldAfter = reader.duration("PINGVAS_ORPHAN_HOLD_AFTER", default: .seconds(600))
        if orphanHoldAfter < .seconds(1) { reader.reject("PINGVAS_ORPHAN_HOLD_AFTER", because: "at least 1s") }
        orphanHoldSweepInterval = min(.seconds(30), max(orphanHoldAfter / 2, .milliseconds(500)))
        accessTokenLifetime = reader.duration("PINGVAS_ACCESS_TOKEN_TTL", default: .seconds(15 * 60))
        if accessTokenLifetime < .seconds(1) { reader.reject("PINGVAS_ACCESS_TOKEN_TTL", because: "at least 1s") }
        refreshTokenLifetime = reader.duration("PINGVAS_REFRESH_TOKEN_TTL", default: .seconds(7 * 24 * 3600))
        if refreshTokenLifetime < .seconds(1) { reader.reject("PINGVAS_REFRESH_TOKEN_TTL", because: "at least 1s") }
    }
}
