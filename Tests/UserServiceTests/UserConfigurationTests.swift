import ServiceKit
import TestSupport
import Testing

@testable import UserService

@Suite(.timeLimit(.minutes(2))) struct UserConfigurationTests {
    @Test func missingAndWeakSettingsAreReportedTogether() {
        var reader = ConfigurationReader(environment: ["PINGVAS_PASSWORD_HASH_COST": "3"])
        _ = UserConfiguration(reader: &reader)
        let error = #expect(throws: ConfigurationError.self) { try reader.validate() }
        #expect(error?.missing.sorted() == ["PINGVAS_DATABASE_URL", "PINGVAS_INTERNAL_SECRET", "PINGVAS_JWT_SIGNING_KEY", "PINGVAS_REDIS_URL"])
        #expect(error?.invalid.contains { $0.hasPrefix("PINGVAS_PASSWORD_HASH_COST") } == true)

        var short = ConfigurationReader(environment: [
            "PINGVAS_DATABASE_URL": "postgresql://x@127.0.0.1/db", "PINGVAS_REDIS_URL": "redis://127.0.0.1", "PINGVAS_JWT_SIGNING_KEY": "too-short",
        ])
        _ = UserConfiguration(reader: &short)
        #expect(throws: ConfigurationError.self) { try short.validate() }
        #expect(!short.summary.contains("too-short"))
    }

    @Test func defaults() throws {
        var reader = ConfigurationReader(environment: [
            "PINGVAS_DATABASE_URL": "postgresql://x@127.0.0.1/db", "PINGVAS_REDIS_URL": "redis://127.0.0.1",
            "PINGVAS_JWT_SIGNING_KEY": testJWTSigningKey(), "PINGVAS_REFRESH_TOKEN_TTL": "168h", "PINGVAS_INTERNAL_SECRET": testInternalSecret,
        ])
        let configuration = UserConfiguration(reader: &reader)
        try reader.validate()
        #expect(configuration.jwtIssuer == "pingvas-user")
        #expect(configuration.jwtAudience == "pingvas")
        #expect(configuration.signupCredits == 100)
        #expect(configuration.passwordHashCost == 17, "OWASP minimum: 2^17")
        #expect(configuration.accessTokenLifetime == .seconds(900))
        #expect(configuration.refreshTokenLifetime == .seconds(7 * 24 * 3600))
        #expect(configuration.service.databaseSchema == "pingvas_dev_user")
    }
}
