import Foundation
import Hummingbird
import Logging
import PingvasCrypto
import PostgresClient
import ServiceKit

/// The whole wiring of the user service; tests call it with their own configuration.
func buildApplication(configuration: UserConfiguration) async throws -> some ApplicationProtocol {
    let logger = Logger(label: "user")
    let dependencies = ServiceDependencies.open(configuration.service, logger: logger)
    guard let postgres = dependencies.postgres else { throw UserServiceError.noDatabase }
    let migrations = MigrationService(
        pool: postgres, schema: configuration.service.databaseSchema, migrations: UserMigrations.all, logger: logger)

    let signer = try await TokenSigner(
        key: .hmac(secret: configuration.jwtSecret), issuer: configuration.jwtIssuer, audience: configuration.jwtAudience)
    let tokens = TokenIssuer(
        signer: signer, accessLifetime: configuration.accessTokenLifetime, refreshLifetime: configuration.refreshTokenLifetime)
    let passwords = try PasswordService(logN: configuration.passwordHashCost)
    let users = PostgresUserRepository(pool: postgres)
    let refreshTokens = PostgresRefreshTokenRepository(pool: postgres)
    let ledger = PostgresCreditLedgerRepository(pool: postgres)

    let router = ServiceRouter.make(
        configuration: configuration.service, readiness: dependencies.readinessChecks + [migrations.readinessCheck])
    AuthController(users: users, refreshTokens: refreshTokens, passwords: passwords, tokens: tokens, signupCredits: configuration.signupCredits)
        .addRoutes(to: router.group("/api/v1/auth"))
    MeController(users: users, ledger: ledger).addRoutes(to: router.group("/api/v1/me"))
    InternalCreditsController(ledger: ledger).addRoutes(to: router.group("/internal/credits"))
    InternalUsersController(users: users).addRoutes(to: router.group("/internal/users"))

    guard let redis = dependencies.redis else { throw UserServiceError.noRedis }
    let plans = PlanChangedConsumer(
        redis: redis, users: users, stream: configuration.planEventsStream, group: configuration.planEventsGroup,
        consumer: "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)", lease: configuration.planEventLease,
        ready: { migrations.isDone }, logger: logger
    )
    return ServiceApplication.make(
        responder: router.buildResponder(), configuration: configuration.service, dependencies: dependencies,
        services: [migrations, plans], logger: logger
    )
}

enum UserServiceError: Error, CustomStringConvertible {
    case noDatabase
    case noRedis

    var description: String {
        switch self {
        case .noDatabase: "the user service needs PINGVAS_DATABASE_URL"
        case .noRedis: "the user service needs PINGVAS_REDIS_URL"
        }
    }
}
