import HTTPClient
import Hummingbird
import Logging
import PingvasCrypto
import ServiceKit

/// The whole wiring of the gateway; tests call it with their own configuration.
func buildApplication(configuration: GatewayConfiguration) async throws -> some ApplicationProtocol {
    let logger = Logger(label: "gateway")
    let dependencies = ServiceDependencies.open(configuration.service, logger: logger)
    let signer = try await TokenSigner(key: .hmac(secret: configuration.jwtSecret), issuer: configuration.jwtIssuer, audience: configuration.jwtAudience)
    let client = CurlHTTPClient(configuration: HTTPClientConfiguration(maxConnectionsPerHost: 64), logger: logger)
    let router = ServiceRouter.make(GatewayRequestContext.self, configuration: configuration.service, readiness: dependencies.readinessChecks) {
        $0.add(middleware: SecurityHeadersMiddleware(allowedOrigins: Set(configuration.corsOrigins)))
    }
    ProxyController(
        configuration: configuration, client: client, signer: signer,
        rateLimiter: RateLimiter(redis: dependencies.redis!, logger: logger)
    ).addRoutes(to: router)
    return ServiceApplication.make(
        responder: router.buildResponder(), configuration: configuration.service, dependencies: dependencies,
        services: [ShutdownHook { await client.shutdown() }], logger: logger
    )
}
