import HTTPClient
import Hummingbird
import Logging
import PingvasCrypto
import ServiceKit

/// The whole wiring of the gateway; tests call it with their own configuration.
func buildApplication(configuration: GatewayConfiguration, logger: Logger? = nil) async throws -> some ApplicationProtocol {
    let logger = logger ?? configuration.service.makeLogger()
    let dependencies = ServiceDependencies.open(configuration.service, logger: logger)
    let redis = try dependencies.requireRedis()
    let client = CurlHTTPClient(configuration: HTTPClientConfiguration(maxConnectionsPerHost: 64), logger: logger)
    // Event streams hold their upstream connection for as long as they last: they get a client (a
    // connection budget) of their own, so however many are open, ordinary requests never queue
    // behind them. StreamLimiter keeps their number within this budget.
    let streamClient = CurlHTTPClient(
        configuration: HTTPClientConfiguration(maxConnectionsPerHost: configuration.maxStreams, maxTotalConnections: configuration.maxStreams),
        logger: logger
    )
    let tokens = JWKSVerifier(
        userURL: configuration.upstreams[.user] ?? "", client: client, trust: configuration.service.trust,
        issuer: configuration.jwtIssuer, audience: configuration.jwtAudience, timeout: GatewayConfiguration.keyLookupTimeout,
        refreshInterval: configuration.jwksRefreshInterval
    )

    let router = ServiceRouter.make(configuration: configuration.service, readiness: dependencies.readinessChecks, verifiesCallers: false) {
        $0.add(middleware: SecurityHeadersMiddleware(allowedOrigins: Set(configuration.corsOrigins)))
    }
    // Before the proxy routes, so it also covers requests no route matches (they resolve to not-found).
    router.add(middleware: CanonicalPathMiddleware())
    let limiter = RateLimiter(redis: redis, keys: configuration.keys, logger: logger)
    let apiKeys = APIKeyResolver(
        userURL: configuration.upstreams[.user] ?? "", client: client, trust: configuration.service.trust, timeout: GatewayConfiguration.keyLookupTimeout)
    router.addRoutes(ProxyController(configuration: configuration, client: client, tokens: tokens, rateLimiter: limiter, apiKeys: apiKeys,
        suspensions: SuspensionList(redis: redis, keys: configuration.keys, logger: logger),
        streamClient: streamClient, streams: StreamLimiter(perCaller: configuration.maxStreamsPerUser, total: configuration.maxStreams)
    ).routes)
    router.addRoutes(APIDocsController().routes)
    router.addRoutes(StudioController(imageOrigins: configuration.studioImageOrigins).routes)

    return ServiceApplication.make(
        responder: router.buildResponder(), configuration: configuration.service, dependencies: dependencies,
        services: [ShutdownHook {
            await client.shutdown()
            await streamClient.shutdown()
        }], logger: logger
    )
}
