import Core
import ServiceKit

/// Everything the user service reads from the environment.
struct UserConfiguration: ServiceConfigurationProtocol {
    var service: ServiceConfiguration
    /// HS256 secret for access tokens (`PINGVAS_JWT_SECRET`, at least 32 bytes); shared with the gateway.
    var jwtSecret: String
    var jwtIssuer: String
    var jwtAudience: String
    /// Credits every new account starts with.
    var signupCredits: Int64
    /// scrypt cost as log2(N); 17 by default (OWASP's minimum: 128 MiB and a few hundred ms per hash).
    var passwordHashCost: Int
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
        jwtSecret = reader.string("PINGVAS_JWT_SECRET", secret: true)
        if !jwtSecret.isEmpty && jwtSecret.utf8.count < 32 {
            reader.reject("PINGVAS_JWT_SECRET", because: "at least 32 bytes")
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
