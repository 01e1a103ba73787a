import Foundation
import HTTPClient
import Hummingbird
import HummingbirdTesting
import Logging
import TestSupport
import Testing
@testable import ServiceKit

/// With `PINGVAS_METRICS_PORT` a service answers `/metrics` on a port of its own, and nothing else
/// there, so a NetworkPolicy can admit Prometheus to the metrics only.
@Suite(.timeLimit(.minutes(2))) struct MetricsPortTests {
    @Test func theMetricsPortServesMetricsAndNothingElse() async throws {
        let metricsPort = try TestStack.freePort()
        var reader = ConfigurationReader(environment: [
            "PINGVAS_HOST": "127.0.0.1", "PINGVAS_PORT": "0", "PINGVAS_METRICS_PORT": String(metricsPort), "PINGVAS_INTERNAL_SECRET": testInternalSecret,
        ])
        let configuration = ServiceConfiguration.read(serviceID: "test", defaultPort: 0, needsDatabase: false, needsRedis: false, from: &reader)
        try reader.validate()
        #expect(configuration.metricsPort == metricsPort)
        let logger = Logger(label: "test")
        let router = ServiceRouter.make(configuration: configuration, readiness: [])
        router.get("/api/v1/secret") { _, _ in "the API" }
        let app = ServiceApplication.make(
            responder: router.buildResponder(), configuration: configuration, dependencies: .open(configuration, logger: logger), logger: logger
        )
        let http = CurlHTTPClient(logger: logger)
        try await app.test(.live) { client in
            #expect(try await client.execute(uri: "/api/v1/secret", method: .get) { $0.status } == .ok)
            let metrics = "http://127.0.0.1:\(metricsPort)"
            try await eventually(timeout: .seconds(10), "the metrics port answers") {
                (try? await http.execute(HTTPClientRequest(url: metrics + "/metrics", timeout: .seconds(2))))?.status == 200
            }
            let body = try await http.execute(HTTPClientRequest(url: metrics + "/metrics", timeout: .seconds(2)))
            #expect(String(decoding: body.body, as: UTF8.self).contains("# TYPE"))
            for path in ["/api/v1/secret", "/healthz", "/readyz", "/internal/credits/grants"] {
                #expect(try await http.execute(HTTPClientRequest(url: metrics + path, timeout: .seconds(2))).status == 404, "\(path)")
            }
        }
        await http.shutdown()
    }

    @Test func aBadMetricsPortIsAConfigurationError() {
        var reader = ConfigurationReader(environment: ["PINGVAS_METRICS_PORT": "http", "PINGVAS_INTERNAL_SECRET": testInternalSecret])
        _ = ServiceConfiguration.read(serviceID: "test", defaultPort: 0, needsDatabase: false, needsRedis: false, from: &reader)
        #expect(throws: ConfigurationError.self) { try reader.validate() }
    }
}
