import Core
import HTTPClient
import Hummingbird
import Logging
import PingvasCrypto
import ServiceKit
import ServiceLifecycle

/// The whole wiring of the user service; tests call it with their own configuration.
func buildApplication(configuration: UserConfiguration, logger: Logger? = nil) async throws -> some ApplicationProtocol {
    let logger = logger ?? configuration.service.makeLogger()
    let dependencies = ServiceDependencies.open(configuration.service, logger: logger)
    let postgres = try dependencies.requirePostgres()
    let redis = try dependencies.requireRedis()
    let migrations = MigrationService(
        pool: postgres, schema: configuration.service.databaseSchema, migrations: UserMigrations.all, logger: logger)

    let signingPair = try Ed25519KeyPair(privateKeyBase64: configuration.jwtSigningKey)
    let signer = try await TokenSigner(
        key: .ed25519(privateKeyBase64: signingPair.privateKeyBase64), issuer: configuration.jwtIssuer, audience: configuration.jwtAudience,
        kid: Ed25519KeyPair.keyID(publicKeyBase64: signingPair.publicKeyBase64))
    let tokens = TokenIssuer(
        signer: signer, accessLifetime: configuration.accessTokenLifetime, refreshLifetime: configuration.refreshTokenLifetime)
    let passwords = try PasswordService(logN: configuration.passwordHashCost)
    let users = PostgresUserRepository(pool: postgres)
    let refreshTokens = PostgresRefreshTokenRepository(pool: postgres)
    let ledger = PostgresCreditLedgerRepository(pool: postgres)

    let admin = PostgresAdminRepository(pool: postgres)

    let router = ServiceRouter.make(
        configuration: configuration.service, readiness: dependencies.readinessChecks + [migrations.readinessCheck])
    router.addRoutes(
        AuthController(
            users: users, refreshTokens: refreshTokens, passwords: passwords, tokens: tokens, signupCredits: configuration.signupCredits,
            throttle: LoginThrottle(redis: redis, keys: configuration.keys, policy: configuration.loginThrottle), admin: admin
        ).routes,
        atPath: "/api/v1/auth"
    )
    let oauthHTTP = CurlHTTPClient(configuration: HTTPClientConfiguration(defaultTimeout: .seconds(10)), logger: logger)
    router.addRoutes(
        OAuthController(
            providers: OAuthProviderClient(settings: configuration.oauth, http: oauthHTTP),
            states: OAuthStateStore(redis: redis, keys: configuration.keys), identities: PostgresOAuthIdentityRepository(pool: postgres),
            users: users, admin: admin, refreshTokens: refreshTokens, passwords: passwords, tokens: tokens, signupCredits: configuration.signupCredits
        ).routes,
        atPath: "/api/v1/auth/oauth"
    )
    let deletions = PostgresAccountDeletionRepository(pool: postgres)
    let announcer = DeletionAnnouncer(
        deletions: deletions, redis: redis, keys: configuration.keys, interval: configuration.suspensionRepublishInterval,
        ready: { migrations.isDone }, logger: logger
    )
    router.addRoutes(
        MeController(
            users: users, ledger: ledger, passwords: passwords, refreshTokens: refreshTokens,
            deletion: AccountDeletion(repository: deletions, announcer: announcer, redis: redis, keys: configuration.keys)
        ).routes,
        atPath: "/api/v1/me"
    )
    router.addRoutes(InternalCreditsController(ledger: ledger).routes, atPath: "/internal/credits")
    router.addRoutes(InternalUsersController(users: users).routes, atPath: "/internal/users")
    let apiKeys = PostgresAPIKeyRepository(pool: postgres)
    router.addRoutes(APIKeyController(keys: apiKeys).routes, atPath: "/api/v1/api-keys")
    router.addRoutes(InternalAPIKeysController(keys: apiKeys).routes, atPath: "/internal/api-keys")
    let jwks = JWKSDocument(publicKeys: [signingPair.publicKeyBase64] + configuration.jwtPreviousPublicKeys)
    router.get("/internal/jwks") { _, _ in JSONResponse(.ok, jwks) }
    router.addRoutes(AdminController(admin: admin, ledger: ledger, redis: redis, keys: configuration.keys).routes, atPath: "/api/v1/admin")

    let events = EventStreamReader(
        redis: redis, stream: configuration.keys.planEvents, group: PipelineKeys.userGroup, lease: configuration.planEventLease,
        deadLetterStream: configuration.keys.eventsDeadLetter, ready: { migrations.isDone }, logger: logger
    )
    let plans = PlanChangedConsumer(users: users, reader: events, logger: logger)
    let gauges = SQLGaugeReporter(pool: postgres, gauges: [
        SQLGauge("pingvas_credit_holds_outstanding", sql: "SELECT count(*)::float8 AS value FROM credit_holds WHERE status = 'held'"),
        SQLGauge(
            "pingvas_credit_hold_oldest_seconds",
            sql: "SELECT COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0)::float8 AS value FROM credit_holds WHERE status = 'held'"
        ),
        SQLGauge("pingvas_users", sql: "SELECT count(*)::float8 AS value FROM users"),
        SQLGauge("pingvas_credits_captured", sql: "SELECT COALESCE(sum(amount), 0)::float8 AS value FROM credit_holds WHERE status = 'captured'"),
    ], ready: { migrations.isDone }, logger: logger)
    var services: [any Service] = [migrations, plans, gauges, ShutdownHook { await oauthHTTP.shutdown() }]
    services.append(announcer)
    services.append(SuspensionPublisher(
        admin: admin, redis: redis, keys: configuration.keys, interval: configuration.suspensionRepublishInterval,
        ready: { migrations.isDone }, logger: logger
    ))
    if let generationURL = configuration.generationURL {
        let http = CurlHTTPClient(configuration: HTTPClientConfiguration(defaultTimeout: .seconds(5)), logger: logger)
        services.append(ShutdownHook { await http.shutdown() })
        services.append(OrphanHoldSweeper(
            ledger: ledger, http: http, trust: configuration.service.trust, generationURL: generationURL, after: configuration.orphanHoldAfter,
            interval: configuration.orphanHoldSweepInterval, ready: { migrations.isDone }, logger: logger
        ))
    } else {
        logger.warning("PINGVAS_GENERATION_URL is not set: holds whose job was never created are not released")
    }
    return ServiceApplication.make(
        responder: router.buildResponder(), configuration: configuration.service, dependencies: dependencies,
        services: services, logger: logger
    )
}
