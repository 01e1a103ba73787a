import Core
import Foundation
import Hummingbird
import HummingbirdTesting
import TestSupport
import Testing
@testable import ServiceKit

@Suite(.timeLimit(.minutes(2))) struct ServiceRouterTests {
    struct Boom: Error {}
    struct Body: Decodable { let width: Int }

    static func app(readiness: [ReadinessCheck] = []) -> some ApplicationProtocol {
        let configuration = ServiceConfiguration(serviceID: "test", port: 0, readinessTimeout: .milliseconds(300), internalSecret: testInternalSecret)
        let router = ServiceRouter.make(configuration: configuration, readiness: readiness)
        router.get("/problem") { _, _ -> String in throw Problem.validation(["width": "must be at most 2048"]) }
        router.get("/boom") { _, _ -> String in throw Boom() }
        router.post("/decode") { request, context -> String in
            let body = try await request.decode(as: Body.self, context: context)
            return "\(body.width)"
        }
        router.get("/context") { _, _ -> String in
            "\(Core.RequestContext.requestID ?? "-") \(Core.RequestContext.traceparent ?? "-")"
        }
        return Application(router: router)
    }

    static func json(_ buffer: ByteBuffer) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any])
    }

    @Test func healthzAnswers200() async throws {
        try await Self.app().test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
                let body = try Self.json(response.body)
                #expect(body["status"] as? String == "ok")
            }
        }
    }

    @Test func readyzNamesTheFailingDependency() async throws {
        let checks = [
            ReadinessCheck("postgres") {},
            ReadinessCheck("redis") { throw Boom() },
            ReadinessCheck("slow") { try await Task.sleep(for: .seconds(60)) },
        ]
        try await Self.app(readiness: checks).test(.router) { client in
            let started = ContinuousClock.now
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(response.headers[.contentType] == "application/problem+json")
                let body = try Self.json(response.body)
                #expect(body["type"] as? String == "https://pingvas.studio/problems/dependency-unavailable")
                #expect((body["failed"] as? [String])?.sorted() == ["redis", "slow"])
                #expect((body["checks"] as? [String: String])?["postgres"] == "ok")
            }
            // The hanging check would take a minute; the 300 ms limit must cut it short. The bound leaves room
            // for the stalls of a fully loaded 2-core run (CPU-bound suites hold the thread pool for seconds).
            #expect(ContinuousClock.now - started < .seconds(20), "a hanging check must time out")
        }
    }

    @Test func unknownRouteIsAProblemWithRequestID() async throws {
        try await Self.app().test(.router) { client in
            try await client.execute(uri: "/nope", method: .get, headers: [.requestID: "abc-123"]) { response in
                #expect(response.status == .notFound)
                #expect(response.headers[.contentType] == "application/problem+json")
                #expect(response.headers[.requestID] == "abc-123")
                let body = try Self.json(response.body)
                #expect(body["type"] as? String == "https://pingvas.studio/problems/not-found")
                #expect(body["status"] as? Int == 404)
                #expect(body["request_id"] as? String == "abc-123")
            }
        }
    }

    @Test func validationProblemListsTheField() async throws {
        try await Self.app().test(.router) { client in
            try await client.execute(uri: "/problem", method: .get) { response in
                #expect(response.status == .unprocessableContent)
                let body = try Self.json(response.body)
                #expect(body["type"] as? String == "https://pingvas.studio/problems/validation-failed")
                #expect((body["errors"] as? [String: String])?["width"] == "must be at most 2048")
            }
        }
    }

    @Test(arguments: ["{\"width\": ", "{\"width\": \"wide\"}", "[]", ""])
    func malformedBodyIs400(body: String) async throws {
        try await Self.app().test(.router) { client in
            try await client.execute(uri: "/decode", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: body)) { response in
                #expect(response.status == .badRequest)
                let problem = try Self.json(response.body)
                #expect(problem["type"] as? String == "https://pingvas.studio/problems/invalid-body")
            }
        }
    }

    @Test func unexpectedErrorIs500WithoutDetail() async throws {
        try await Self.app().test(.router) { client in
            try await client.execute(uri: "/boom", method: .get) { response in
                #expect(response.status == .internalServerError)
                let body = try Self.json(response.body)
                #expect(body["type"] as? String == "https://pingvas.studio/problems/internal")
                #expect(!(String(buffer: response.body)).contains("Boom"))
                #expect(body["request_id"] is String)
            }
        }
    }

    @Test func requestIDAndTraceAreBoundForOutgoingCalls() async throws {
        let incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        try await Self.app().test(.router) { client in
            try await client.execute(uri: "/context", method: .get, headers: [.requestID: "req-1", .traceparent: incoming]) { response in
                let parts = String(buffer: response.body).split(separator: " ").map(String.init)
                #expect(parts.first == "req-1")
                let trace = try #require(TraceParent(header: parts.last))
                #expect(trace.traceID == "4bf92f3577b34da6a3ce929d0e0e4736")
                #expect(trace.spanID != "00f067aa0ba902b7", "this hop gets its own span id")
            }
            // a malformed id is replaced, and a missing trace starts a new one
            try await client.execute(uri: "/context", method: .get, headers: [.requestID: "bad id\u{7}", .traceparent: "00-zz-1-01"]) { response in
                let generated = try #require(response.headers[.requestID])
                #expect(generated != "bad id\u{7}" && generated.count == 32)
                let parts = String(buffer: response.body).split(separator: " ").map(String.init)
                #expect(parts.first == generated)
                #expect(TraceParent(header: parts.last) != nil)
            }
        }
    }

    @Test func metricsExposeRequestCountsAndLatencyByRoute() async throws {
        try await Self.app().test(.router) { client in
            for _ in 0..<3 { try await client.execute(uri: "/healthz", method: .get) { _ in } }
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                let text = String(buffer: response.body)
                #expect(text.contains("hb_requests{"))
                #expect(text.contains("http_route=\"/healthz\""))
                #expect(text.contains("http_server_request_duration_bucket{"))
                #expect(text.contains("http_response_status_code=\"200\""))
                // The process's own numbers: memory and threads (issue #12 asks for both per process).
                let value = { (name: String) -> Double? in
                    text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
                }
                #expect((value("process_resident_memory_bytes") ?? 0) > 1_000_000, "resident memory of a running process")
                #expect((value("process_threads") ?? 0) >= 1)
                #expect((value("process_open_fds") ?? 0) >= 3)
            }
        }
    }
}
