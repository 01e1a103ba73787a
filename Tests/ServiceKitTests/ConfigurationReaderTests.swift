import Testing
@testable import ServiceKit

@Suite(.timeLimit(.minutes(2))) struct ConfigurationReaderTests {
    @Test func everyMissingKeyIsReportedAtOnce() throws {
        var reader = ConfigurationReader(environment: ["PINGVAS_PORT": "not-a-number"])
        let configuration = ServiceConfiguration.read(serviceID: "user", defaultPort: 8081, needsDatabase: true, needsRedis: true, from: &reader)
        let error = try #require(throws: ConfigurationError.self) { try reader.validate() }
        #expect(error.missing == ["PINGVAS_DATABASE_URL", "PINGVAS_REDIS_URL", "PINGVAS_INTERNAL_SECRET"])
        #expect(error.invalid == ["PINGVAS_PORT (expected an integer)"])
        #expect(configuration.port == 8081)
        #expect(error.description.contains("PINGVAS_DATABASE_URL"))
    }

    @Test func secretsAreRedactedInTheSummary() throws {
        var reader = ConfigurationReader(environment: [
            "PINGVAS_DATABASE_URL": "postgresql://app:hunter2@db/pingvas",
            "PINGVAS_REDIS_URL": "redis://:s3cret@cache:6379",
            "PINGVAS_DB_SCHEMA": "pingvas_prod", "PINGVAS_INTERNAL_SECRET": "internal-secret-that-must-not-show-0123",
        ])
        let configuration = ServiceConfiguration.read(serviceID: "payment-webhook", defaultPort: 8083, needsDatabase: true, needsRedis: true, from: &reader)
        try reader.validate()
        #expect(configuration.databaseSchema == "pingvas_prod_payment_webhook")
        #expect(configuration.databaseURL == "postgresql://app:hunter2@db/pingvas")
        #expect(!reader.summary.contains("hunter2"))
        #expect(!reader.summary.contains("s3cret"))
        #expect(!reader.summary.contains("internal-secret-that-must-not-show"))
        #expect(reader.summary.contains("PINGVAS_DATABASE_URL=[redacted]"))
        #expect(reader.summary.contains("PINGVAS_DB_SCHEMA=pingvas_prod"))
    }

    @Test func rejectsASchemaThatIsNotAnIdentifier() {
        var reader = ConfigurationReader(environment: ["PINGVAS_DB_SCHEMA": "x; drop table users"])
        _ = ServiceConfiguration.read(serviceID: "user", defaultPort: 1, needsDatabase: false, needsRedis: false, from: &reader)
        #expect(throws: ConfigurationError.self) { try reader.validate() }
    }

    @Test(arguments: [("250ms", 250), ("5s", 5000), ("2m", 120_000), ("1.5", 1500), ("1h", 3_600_000)])
    func durations(text: String, milliseconds: Int64) {
        #expect(ConfigurationReader.parseDuration(text) == .milliseconds(milliseconds))
    }

    @Test func malformedDurationIsReported() {
        var reader = ConfigurationReader(environment: ["PINGVAS_READINESS_TIMEOUT": "soon"])
        _ = reader.duration("PINGVAS_READINESS_TIMEOUT", default: .seconds(1))
        #expect(throws: ConfigurationError.self) { try reader.validate() }
    }
}
