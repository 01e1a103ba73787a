import Foundation
import HTTPClient
import Logging
import TestSupport
import Testing

/// A real stable-diffusion.cpp job through all seven executables: the catalog gets a `tiny-sd` entry
/// (engine `sdcpp`) pointing at the tiny test model, and the ai-worker serves its pool.
@Suite(.serialized, .timeLimit(.minutes(10))) struct EngineEndToEndTests {
    @Test func anSDJobThroughTheGatewayEndsSucceededWithARealEngineImage() async throws {
        if let missing = EngineTestModel.missing { Issue.record("\(missing)") }
        let catalog = try EngineTestModel.catalog()
        try await ServiceSuite.with(extraEnvironment: [
            "PINGVAS_MODEL_CATALOG": catalog,
            "PINGVAS_MODELS_DIR": EngineTestModel.modelsDir,
            "PINGVAS_WORKER_QUEUES": "cpu-preview,\(EngineTestModel.pool)",
            "PINGVAS_SD_LIBRARY": EngineTestModel.libraryPath,
            "PINGVAS_ENGINE_THREADS": "2",
        ]) { suite in
            let api = GatewayClient(baseURL: suite.gatewayURL)
            let signup = try await api.call("POST", "/api/v1/auth/signup", json: [
                "email": "engine-\(UUID().uuidString.prefix(8))@example.com", "password": "correct horse battery", "display_name": "E",
            ])
            #expect(signup.status == 201, "signup: \(signup.text)")
            let token = try #require(signup.json["access_token"] as? String)

            // A worker with the sd.cpp engine serves the pool: the model is `cold` (not loaded yet).
            #expect(try await availability(api, token, until: "cold") == "cold", "\(suite.logs)")

            let submitted = try await api.call("POST", "/api/v1/generations", token: token, json: [
                "model": EngineTestModel.modelID, "prompt": "a lighthouse at dusk", "negative_prompt": "blurry",
                "width": 64, "height": 64, "steps": 2, "cfg_scale": 7, "seed": 42, "batch_size": 2,
                "loras": [["name": EngineTestModel.loraName, "weight": 0.8]],
            ])
            #expect(submitted.status == 202, "submit: \(submitted.text)")
            let jobID = try #require(submitted.json["id"] as? String, "\(submitted.text)")
            let events = try await api.events(
                "/api/v1/generations/\(jobID)/events", token: token, until: ["succeeded", "failed", "canceled"], timeout: .seconds(180)
            )
            #expect(events.last?.0 == "succeeded", "events: \(events.map(\.0)), last: \(events.last?.1 ?? "")\n\(suite.logs)")
            #expect(events.filter { $0.0 == "progress" }.count >= 1, "live progress from the engine: \(events.map(\.0))")

            let job = try await api.call("GET", "/api/v1/generations/\(jobID)", token: token)
            let images = try #require(job.json["images"] as? [[String: Any]], "\(job.text)")
            #expect(images.count == 2)
            var contents: [[UInt8]] = []
            for image in images {
                let id = try #require(image["id"] as? String)
                // The gallery records it from an event: 404 until then.
                let content = try await eventuallyValue(pollEvery: .milliseconds(100), "the gallery serves image \(id)\n\(suite.logs)") {
                    let content = try await api.image("/api/v1/images/\(id)/content", token: token).reply
                    return content.status == 404 ? nil : content
                }
                #expect(content.status == 200 && content.headers["Content-Type"] == "image/png")
                let size = try #require(pngSize(content.body), "not a PNG")
                #expect(size.width == 64 && size.height == 64)
                #expect(String(decoding: content.body, as: UTF8.self).contains("sdcpp"), "the PNG records the real engine")
                contents.append(content.body)
            }
            #expect(Set(contents).count == 2, "two seeds, two different images")

            // The loaded model stays cached: now it is `available` (warm) without a cold start.
            #expect(try await availability(api, token, until: "available") == "available")
        }
    }

    /// The metrics the dashboards and alerts use (`scripts/check_metrics.py --list`) are all exported
    /// by a running stack once it has served a job that succeeded, one that failed and an error.
    @Test func everyMetricTheDashboardsAndAlertsUseIsExported() async throws {
        if let missing = EngineTestModel.missing { Issue.record("\(missing)") }
        // tiny-sd's catalog plus a model whose checkpoint is missing: its jobs fail on the worker.
        let base = try Data(contentsOf: URL(fileURLWithPath: try EngineTestModel.catalog()))
        var root = try #require(try JSONSerialization.jsonObject(with: base) as? [String: Any])
        var models = try #require(root["models"] as? [[String: Any]])
        var broken = try #require(models.first { $0["id"] as? String == EngineTestModel.modelID })
        broken["id"] = "tiny-sd-missing"
        broken["files"] = ["checkpoint": "missing.ckpt"]
        models.append(broken)
        root["models"] = models
        let catalog = FileManager.default.temporaryDirectory.appendingPathComponent("\(TestStack.uniqueName("catalog")).json")
        try JSONSerialization.data(withJSONObject: root).write(to: catalog)
        try await ServiceSuite.with(extraEnvironment: [
            "PINGVAS_MODEL_CATALOG": catalog.path,
            "PINGVAS_MODELS_DIR": EngineTestModel.modelsDir,
            "PINGVAS_WORKER_QUEUES": "cpu-preview,\(EngineTestModel.pool)",
            "PINGVAS_SD_LIBRARY": EngineTestModel.libraryPath,
        ]) { suite in
            let api = GatewayClient(baseURL: suite.gatewayURL)
            let signup = try await api.call("POST", "/api/v1/auth/signup", json: [
                "email": "metrics-\(UUID().uuidString.prefix(8))@example.com", "password": "correct horse battery", "display_name": "M",
            ])
            let token = try #require(signup.json["access_token"] as? String, "signup: \(signup.text)")
            for (model, outcome) in [("preview", "succeeded"), ("tiny-sd-missing", "failed")] {
                let submitted = try await api.call("POST", "/api/v1/generations", token: token, json: [
                    "model": model, "prompt": "a lighthouse", "width": 64, "height": 64, "steps": 2, "cfg_scale": 7,
                ])
                let id = try #require(submitted.json["id"] as? String, "submit \(model): \(submitted.text)")
                let events = try await api.events("/api/v1/generations/\(id)/events", token: token, until: ["succeeded", "failed", "canceled"])
                #expect(events.last?.0 == outcome, "\(model): \(events.map(\.0))\n\(suite.logs)")
            }
            #expect(try await api.call("GET", "/api/v1/nothing-here", token: token).status == 404)

            let http = CurlHTTPClient(configuration: HTTPClientConfiguration(), logger: Logger(label: "test"))
            defer { Task { await http.shutdown() } }
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent(TestStack.uniqueName("metrics"))
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            var report = ""
            // Gauges are recorded every few seconds: poll until every name is there.
            try await eventually(timeout: .seconds(30), pollEvery: .seconds(1), "every metric is exported; check_metrics said:\n\(report)") {
                var files: [String] = []
                for (id, process) in suite.processes {
                    let scraped = try await http.execute(HTTPClientRequest(url: process.baseURL + "/metrics", timeout: .seconds(5)))
                    let file = folder.appendingPathComponent("\(id).txt")
                    try Data(scraped.body).write(to: file)
                    files.append(file.path)
                }
                let check = Process()
                check.executableURL = URL(fileURLWithPath: "/usr/bin/env")
                check.arguments = ["python3", TestStack.repositoryRoot.appendingPathComponent("scripts/check_metrics.py").path, "--scraped"] + files
                let output = Pipe()
                check.standardOutput = output
                check.standardError = output
                try check.run()
                let data = output.fileHandleForReading.readDataToEndOfFile()
                check.waitUntilExit()
                report = String(decoding: data, as: UTF8.self)
                return check.terminationStatus == 0
            }
        }
    }

    /// tiny-sd's availability status, polled (heartbeats come every few seconds) until it is `wanted`.
    func availability(_ api: GatewayClient, _ token: String, until wanted: String) async throws -> String? {
        var status: String?
        try await eventually(timeout: .seconds(15), pollEvery: .milliseconds(100), "tiny-sd is \(wanted); last seen: \(status ?? "none")") {
            let models = try await api.call("GET", "/api/v1/models", token: token)
            let tiny = (models.json["items"] as? [[String: Any]])?.first { $0["id"] as? String == EngineTestModel.modelID }
            status = (tiny?["availability"] as? [String: Any])?["status"] as? String
            return status == wanted
        }
        return status
    }
}
