import Foundation
import HTTPClient
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
            #expect(events.last?.0 == "succeeded", "events: \(events.map(\.0))\n\(suite.logs)")
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
