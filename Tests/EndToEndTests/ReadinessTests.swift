import Foundation
import HTTPClient
import Logging
import TestSupport
import Testing

/// The real executables against real servers: start, health, readiness through outages, SIGTERM.
@Suite(.serialized, .timeLimit(.minutes(5))) struct ReadinessTests {
    let client = CurlHTTPClient(logger: Logger(label: "test"))

    func status(_ url: String) async -> Int? {
        try? await client.execute(HTTPClientRequest(url: url, timeout: .seconds(3))).status
    }

    func body(_ url: String) async -> String {
        guard let response = try? await client.execute(HTTPClientRequest(url: url, timeout: .seconds(3))) else { return "" }
        return String(decoding: response.body, as: UTF8.self)
    }

    static func environment(_ servers: TestServers) -> [String: String] {
        let storage = TestStack.repositoryRoot.appendingPathComponent(".run/test-private/\(TestStack.uniqueName("storage"))")
        var environment = ServiceSuite.baseEnvironment(
            servers: servers, storage: storage, jwtSecret: "readiness-test-secret-0123456789abcdef", ports: [:]
        )
        environment["PINGVAS_READINESS_TIMEOUT"] = "1s"
        return environment
    }

    @Test func serviceSurvivesPostgresAndRedisOutages() async throws {
        let servers = try TestStack.startPrivate()
        defer { try? servers.stack("stop") }
        let service = try ServiceProcess("user", environment: Self.environment(servers))
        try await service.waitUntilReady(timeout: .seconds(15))
        #expect(await status("\(service.baseURL)/healthz") == 200)

        try servers.stack("stop", "postgres")
        try await eventually(pollEvery: .milliseconds(100), "readyz answers 503 while PostgreSQL is down") { await status("\(service.baseURL)/readyz") == 503 }
        let down = await body("\(service.baseURL)/readyz")
        #expect(down.contains("\"failed\":[\"postgres\"]"), "readyz should name postgres: \(down)")
        #expect(await status("\(service.baseURL)/healthz") == 200, "alive while a dependency is down")
        try servers.stack("start", "postgres")
        let postgresBack = ContinuousClock.now
        try await eventually(pollEvery: .milliseconds(100), "readyz answers 200 once PostgreSQL is back") { await status("\(service.baseURL)/readyz") == 200 }
        let postgresRecovery = ContinuousClock.now - postgresBack

        try servers.stack("stop", "redis")
        try await eventually(pollEvery: .milliseconds(100), "readyz answers 503 while Redis is down") { await status("\(service.baseURL)/readyz") == 503 }
        let redisDown = await body("\(service.baseURL)/readyz")
        #expect(redisDown.contains("\"failed\":[\"redis\"]"), "readyz should name redis: \(redisDown)")
        try servers.stack("start", "redis")
        let redisBack = ContinuousClock.now
        try await eventually(pollEvery: .milliseconds(100), "readyz answers 200 once Redis is back") { await status("\(service.baseURL)/readyz") == 200 }
        let redisRecovery = ContinuousClock.now - redisBack
        print("readiness recovery: postgres \(postgresRecovery), redis \(redisRecovery)")

        #expect(service.isRunning)
        let exit = await service.stop()
        #expect(exit == 0, "SIGTERM should end the service cleanly:\n\(service.log)")
    }

    @Test func everyServiceStartsAnswersAndStopsOnSIGTERM() async throws {
        let suite = try await ServiceSuite.start()
        for id in ServiceSuite.ids {
            let service = suite.processes[id]!
            #expect(await status("\(service.baseURL)/healthz") == 200, "\(id) healthz")
            #expect(await status("\(service.baseURL)/readyz") == 200, "\(id) readyz")
            let metrics = await body("\(service.baseURL)/metrics")
            #expect(metrics.contains("hb_requests"), "\(id) /metrics: \(metrics.prefix(200))")
        }
        let statuses = await suite.stop()
        for id in ServiceSuite.ids {
            let service = suite.processes[id]!
            #expect(statuses[id] == 0, "\(id) did not stop cleanly:\n\(service.log.suffix(3000))")
            // every log line is JSON with the service id
            for line in service.log.split(separator: "\n") {
                let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                #expect(object?["service"] as? String == id, "\(id): not a JSON log line: \(line)")
            }
        }
    }

    @Test func missingConfigurationIsReportedAllAtOnce() async throws {
        let service = try ServiceProcess("generation", environment: [:])
        let exit = await service.waitForExit(timeout: .seconds(10))
        #expect(exit == 78)
        #expect(service.log.contains("PINGVAS_DATABASE_URL") && service.log.contains("PINGVAS_REDIS_URL") && service.log.contains("PINGVAS_USER_URL"))
        await service.stop()
    }
}
