import Foundation
import HTTPClient
import Logging
import Testing
import TestSupport

/// The real executables against real servers: start, health, readiness through outages, SIGTERM.
@Suite(.serialized) struct ReadinessTests {
    let client = CurlHTTPClient(logger: Logger(label: "test"))

    func status(_ url: String) async -> Int? {
        try? await client.execute(HTTPClientRequest(url: url, timeout: .seconds(3))).status
    }

    func body(_ url: String) async -> String {
        guard let response = try? await client.execute(HTTPClientRequest(url: url, timeout: .seconds(3))) else { return "" }
        return String(decoding: response.body, as: UTF8.self)
    }

    @Test func serviceSurvivesPostgresAndRedisOutages() async throws {
        let servers = try TestStack.startPrivate()
        defer { try? servers.stack("stop") }
        let service = try ServiceProcess("user", environment: [
            "PINGVAS_DATABASE_URL": servers.databaseURL,
            "PINGVAS_REDIS_URL": servers.redisURL,
            "PINGVAS_DB_SCHEMA": "pingvas_test",
            "PINGVAS_READINESS_TIMEOUT": "1s",
        ])
        let ready = await eventually { await status("\(service.baseURL)/readyz") == 200 }
        #expect(ready, "user never became ready:\n\(service.log)")
        #expect(await status("\(service.baseURL)/healthz") == 200)

        try servers.stack("stop", "postgres")
        #expect(await eventually(timeout: .seconds(10)) { await status("\(service.baseURL)/readyz") == 503 })
        let down = await body("\(service.baseURL)/readyz")
        #expect(down.contains("\"failed\":[\"postgres\"]"), "readyz should name postgres: \(down)")
        #expect(await status("\(service.baseURL)/healthz") == 200, "alive while a dependency is down")
        try servers.stack("start", "postgres")
        let postgresBack = ContinuousClock.now
        #expect(await eventually(timeout: .seconds(10)) { await status("\(service.baseURL)/readyz") == 200 })
        let postgresRecovery = ContinuousClock.now - postgresBack

        try servers.stack("stop", "redis")
        #expect(await eventually(timeout: .seconds(10)) { await status("\(service.baseURL)/readyz") == 503 })
        let redisDown = await body("\(service.baseURL)/readyz")
        #expect(redisDown.contains("\"failed\":[\"redis\"]"), "readyz should name redis: \(redisDown)")
        try servers.stack("start", "redis")
        let redisBack = ContinuousClock.now
        #expect(await eventually(timeout: .seconds(10)) { await status("\(service.baseURL)/readyz") == 200 })
        let redisRecovery = ContinuousClock.now - redisBack
        print("readiness recovery: postgres \(postgresRecovery), redis \(redisRecovery)")

        #expect(service.isRunning)
        let exit = await service.stop()
        #expect(exit == 0, "SIGTERM should end the service cleanly:\n\(service.log)")
    }

    @Test(arguments: ["gateway", "user", "generation", "payment-webhook", "gallery", "model-router", "ai-worker"])
    func everyServiceStartsAnswersAndStopsOnSIGTERM(id: String) async throws {
        let servers = try TestStack.shared()
        let service = try ServiceProcess(id, environment: [
            "PINGVAS_DATABASE_URL": servers.databaseURL,
            "PINGVAS_REDIS_URL": servers.redisURL,
            "PINGVAS_DB_SCHEMA": "pingvas_e2e",
        ])
        #expect(await eventually { await status("\(service.baseURL)/readyz") == 200 }, "\(id) not ready:\n\(service.log)")
        #expect(await status("\(service.baseURL)/healthz") == 200)
        let metrics = await body("\(service.baseURL)/metrics")
        #expect(metrics.contains("hb_requests"), "\(id) /metrics: \(metrics.prefix(200))")
        #expect(await service.stop() == 0, "\(id) did not stop cleanly:\n\(service.log)")
        // every log line is JSON with the service id
        for line in service.log.split(separator: "\n") {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["service"] as? String == id, "not a JSON log line: \(line)")
        }
    }

    @Test func missingConfigurationIsReportedAllAtOnce() async throws {
        let service = try ServiceProcess("generation", environment: [:])
        let exit = await service.stop(timeout: .seconds(10))
        #expect(exit == 78)
        #expect(service.log.contains("PINGVAS_DATABASE_URL") && service.log.contains("PINGVAS_REDIS_URL"))
    }
}
