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
    let signer = try await TokenSigner(key: .hmac(secret: configuration.jwtSecret), issuer: configuration.jwtIssuer, audience: configuration.jwtAudience)
    let client = CurlHTTPClient(configuration: HTTPClientConfiguration(maxConnectionsPerHost: 64), logger: logger)

    let router = ServiceRouter.make(configuration: configuration.service, readiness: dependencies.readinessChecks) {
        $0.add(middleware: SecurityHeadersMiddleware(allowedOrigins: Set(configuration.corsOrigins)))
    }
    let limiter = RateLimiter(redis: redis, keys: configuration.keys, logger: logger)
    router.addRoutes(ProxyController(configuration: configuration, client: client, signer: signer, rateLimiter: limiter).routes)
    router.addRoutes(APIDocsController().routes)

    return ServiceApplication.make(
        responder: router.buildResponder(), configuration: configuration.service, dependencies: dependencies,
        services: [ShutdownHook { await client.shutdown() }], logger: logger
    )
}
