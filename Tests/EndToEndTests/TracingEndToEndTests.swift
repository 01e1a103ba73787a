import Foundation
import HTTPClient
import TestSupport
import Testing

/// One generation is one trace: the seven real executables export their spans (OTLP over HTTP,
/// protobuf) to a receiver on loopback that decodes them with opentelemetry-proto.
@Suite(.serialized, .timeLimit(.minutes(3))) struct TracingEndToEndTests {
    struct SpanLine: Decodable {
        var service: String
        var trace_id: String
        var span_id: String
        var parent_span_id: String
        var name: String
        var kind: Int
        var start: UInt64
        var end: UInt64
    }

    static func spans(_ file: URL) -> [SpanLine] {
        guard let text = try? String(contentsOf: file, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { try? JSONDecoder().decode(SpanLine.self, from: Data($0.utf8)) }
    }

    @Test func oneJobIsOneTraceFromTheGatewayThroughTheWorkerToTheGallery() async throws {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("\(TestStack.uniqueName("spans")).jsonl")
        let receiver = try await LoopbackPythonServer(script: "otlp_receiver.py", folder: "otlp", arguments: [output.path])
        defer { receiver.stop() }
        try await ServiceSuite.with(extraEnvironment: ["PINGVAS_OTEL_ENDPOINT": receiver.baseURL]) { suite in
            let api = GatewayClient(baseURL: suite.gatewayURL)
            let signup = try await api.call("POST", "/api/v1/auth/signup", json: [
                "email": "trace-\(UUID().uuidString.prefix(8))@example.com", "password": "correct horse battery", "display_name": "T",
            ])
            let token = try #require(signup.json["access_token"] as? String, "signup: \(signup.text)")
            let submitted = try await api.call("POST", "/api/v1/generations", token: token, json: [
                "model": "preview", "prompt": "a lighthouse", "width": 64, "height": 64, "steps": 2, "cfg_scale": 7,
            ])
            let jobID = try #require(submitted.json["id"] as? String, "submit: \(submitted.text)")
            let events = try await api.events("/api/v1/generations/\(jobID)/events", token: token, until: ["succeeded", "failed", "canceled"])
            #expect(events.last?.0 == "succeeded", "\(events.map(\.0))\n\(suite.logs)")

            // The trace of the submission: the gateway's server span for it is the root.
            var trace: [SpanLine] = []
            var seen = ""
            try await eventually(timeout: .seconds(30), pollEvery: .milliseconds(500), "the job's trace reached the receiver; spans:\n\(seen)") {
                let all = Self.spans(output)
                guard let root = all.first(where: { candidate in
                    candidate.service == "gateway" && candidate.kind == 2 && candidate.name.hasPrefix("POST") && candidate.parent_span_id.isEmpty
                        && all.contains { $0.trace_id == candidate.trace_id && $0.service == "ai-worker" }
                }) else {
                    seen = all.map { "\($0.service) \($0.name)" }.joined(separator: "\n")
                    return false
                }
                trace = all.filter { $0.trace_id == root.trace_id }
                seen = trace.map { "\($0.service) \($0.name) \($0.span_id) <- \($0.parent_span_id)" }.joined(separator: "\n")
                let names = Set(trace.map { "\($0.service) \($0.name)" })
                // Spans come in each service's own batches (one a second): wait until every parent
                // has arrived too, not just the names (a parent that never comes fails below).
                let ids = Set(trace.map(\.span_id))
                guard trace.allSatisfy({ $0.parent_span_id.isEmpty || ids.contains($0.parent_span_id) }) else { return false }
                return ["gateway", "generation", "user", "model-router", "ai-worker", "gallery"].allSatisfy { service in
                    trace.contains { $0.service == service }
                } && names.contains("ai-worker queue wait") && names.contains("gallery record images")
                    && names.contains("generation apply result") && names.contains { $0.hasPrefix("ai-worker job ") }
            }
            // Every span but the root has its parent in the trace; one root.
            let ids = Set(trace.map(\.span_id))
            let roots = trace.filter { $0.parent_span_id.isEmpty }
            #expect(roots.count == 1, "roots: \(roots.map { "\($0.service) \($0.name)" })")
            let orphans = trace.filter { !$0.parent_span_id.isEmpty && !ids.contains($0.parent_span_id) }
            #expect(orphans.isEmpty, "spans whose parent is missing: \(orphans.map { "\($0.service) \($0.name)" })\n\(seen)")
            #expect(trace.allSatisfy { $0.end >= $0.start })
            // The worker's job span is a child of generation's server span for the submission.
            let job = try #require(trace.first { $0.service == "ai-worker" && $0.name.hasPrefix("job ") })
            let parent = try #require(trace.first { $0.span_id == job.parent_span_id })
            #expect(parent.service == "generation" && parent.kind == 2 && parent.name.hasPrefix("POST"), "\(parent.service) \(parent.name)")
            // The gallery's record is downstream of the worker's result.
            // (its parent is the transaction that wrote the event, inside "apply result").
            let record = try #require(trace.first { $0.service == "gallery" && $0.name == "record images" })
            var ancestors: [SpanLine] = []
            var cursor = record
            while let up = trace.first(where: { $0.span_id == cursor.parent_span_id }) {
                ancestors.append(up)
                cursor = up
            }
            #expect(ancestors.contains { $0.service == "generation" && $0.name == "apply result" }, "\(ancestors.map(\.name))")
            #expect(ancestors.contains { $0.service == "ai-worker" && $0.name.hasPrefix("job ") }, "\(ancestors.map(\.name))")
            #expect(trace.contains { $0.name.hasPrefix("db ") && $0.service == "generation" }, "PostgreSQL statements are spans")
            #expect(trace.contains { $0.name.hasPrefix("redis ") }, "Redis commands are spans")
        }
    }
}
