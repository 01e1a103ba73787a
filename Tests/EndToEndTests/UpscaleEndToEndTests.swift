import Foundation
import HTTPClient
import TestSupport
import Testing

/// An upscale through all seven executables on the real engine: the catalog gets `tiny-esrgan-x2`
/// (the tiny random RealESRGAN x2 of `make test-model`) on the pool the ai-worker serves.
@Suite(.serialized, .timeLimit(.minutes(10))) struct UpscaleEndToEndTests {
    static let upscalerID = "tiny-esrgan-x2"

    /// EngineTestModel's catalog plus the upscaler: base 1 + 100 credits per output megapixel, so
    /// 128x128 costs 1 + ⌈128 × 128 × 100 000 / 10⁹⌉ = 1 + 2 = 3.
    static func catalog() throws -> String {
        let base = try Data(contentsOf: URL(fileURLWithPath: try EngineTestModel.catalog()))
        var root = try #require(try JSONSerialization.jsonObject(with: base) as? [String: Any])
        var models = try #require(root["models"] as? [[String: Any]])
        models.append([
            "id": upscalerID, "name": "Tiny random RealESRGAN x2 (tests only)", "family": "esrgan", "engine": "sdcpp",
            "pool": EngineTestModel.pool, "capabilities": ["upscale"], "upscale_factor": 2,
            "limits": [
                "min_width": 16, "max_width": 256, "min_height": 16, "max_height": 256, "multiple_of": 1,
                "max_steps": 1, "max_batch": 1, "min_cfg_scale": 0, "max_cfg_scale": 0, "samplers": ["esrgan"],
                "defaults": ["width": 64, "height": 64, "steps": 1, "cfg_scale": 0, "sampler": "esrgan"],
            ] as [String: Any],
            "pricing": ["base": 1, "per_megapixel_step_milli": 100_000, "per_lora": 0, "controlnet": 0],
            "timing": ["seconds_per_megapixel_step": 10, "overhead_seconds": 1, "load_seconds": 1],
            "files": ["upscaler": "esrgan-x2.safetensors"],
            "loras": [] as [Any], "controlnets": [] as [Any],
        ])
        root["models"] = models
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(TestStack.uniqueName("catalog")).json")
        try JSONSerialization.data(withJSONObject: root).write(to: url)
        return url.path
    }

    @Test func anImageOfTheCallersIsUpscaledX2IntoTheGalleryWithItsRecipeAndPrice() async throws {
        if let missing = EngineTestModel.missing { Issue.record("\(missing)") }
        try await ServiceSuite.with(extraEnvironment: [
            "PINGVAS_MODEL_CATALOG": try Self.catalog(),
            "PINGVAS_MODELS_DIR": EngineTestModel.modelsDir,
            "PINGVAS_WORKER_QUEUES": "cpu-preview,\(EngineTestModel.pool)",
            "PINGVAS_SD_LIBRARY": EngineTestModel.libraryPath,
            "PINGVAS_ENGINE_THREADS": "2",
        ]) { suite in
            let api = GatewayClient(baseURL: suite.gatewayURL)
            let signup = try await api.call("POST", "/api/v1/auth/signup", json: [
                "email": "upscale-\(UUID().uuidString.prefix(8))@example.com", "password": "correct horse battery", "display_name": "U",
            ])
            let token = try #require(signup.json["access_token"] as? String, "signup: \(signup.text)")

            let models = try await api.call("GET", "/api/v1/models", token: token)
            let listed = (models.json["items"] as? [[String: Any]])?.first { $0["id"] as? String == Self.upscalerID }
            #expect(listed?["capabilities"] as? [String] == ["upscale"] && listed?["upscale_factor"] as? Int == 2, "\(models.text)")

            // The caller's 64x64 image to upscale.
            let source = try await finished(api, token, suite, [
                "model": "preview", "prompt": "a lighthouse", "width": 64, "height": 64, "steps": 2, "cfg_scale": 7, "seed": 7,
            ])
            let sourceID = try #require(source.images.first, "the source job's image")

            let before = try #require(try await api.call("GET", "/api/v1/me", token: token).json["credits"] as? Int)
            let upscaled = try await finished(api, token, suite, ["model": Self.upscalerID, "init_image_id": sourceID])
            #expect(upscaled.cost == 3, "priced per output megapixel")
            let after = try #require(try await api.call("GET", "/api/v1/me", token: token).json["credits"] as? Int)
            #expect(after == before - 3, "charged the price: \(before) then \(after)")
            #expect(upscaled.images.count == 1)
            let imageID = try #require(upscaled.images.first)

            let content = try await eventuallyValue(pollEvery: .milliseconds(100), "the gallery serves image \(imageID)\n\(suite.logs)") {
                let content = try await api.image("/api/v1/images/\(imageID)/content", token: token).reply
                return content.status == 404 ? nil : content
            }
            #expect(content.status == 200 && content.headers["Content-Type"] == "image/png")
            let size = try #require(pngSize(content.body), "not a PNG")
            #expect(size.width == 128 && size.height == 128, "x2 of 64x64: \(size)")
            let thumbnail = try await api.image("/api/v1/images/\(imageID)/thumbnail", token: token).reply
            #expect(thumbnail.status == 200 && pngSize(thumbnail.body) != nil, "a thumbnail: \(thumbnail.status)")

            let image = try await api.call("GET", "/api/v1/images/\(imageID)", token: token)
            #expect(image.json["width"] as? Int == 128 && image.json["height"] as? Int == 128, "\(image.text)")
            let recipe = try #require(image.json["recipe"] as? [String: Any], "\(image.text)")
            #expect(recipe["model"] as? String == Self.upscalerID)
            #expect(recipe["init_image_id"] as? String == sourceID, "the source image")
            #expect(recipe["upscale_factor"] as? Int == 2)
            #expect(recipe["width"] as? Int == 128 && recipe["height"] as? Int == 128)
            #expect(recipe["strength"] == nil, "no strength for an upscale: \(recipe)")
        }
    }

    /// Submits `body` and waits until the job succeeded; its cost and image ids.
    func finished(_ api: GatewayClient, _ token: String, _ suite: ServiceSuite, _ body: [String: Any]) async throws -> (cost: Int, images: [String]) {
        let submitted = try await api.call("POST", "/api/v1/generations", token: token, json: body)
        #expect(submitted.status == 202, "submit: \(submitted.text)")
        let jobID = try #require(submitted.json["id"] as? String, "\(submitted.text)")
        let events = try await api.events(
            "/api/v1/generations/\(jobID)/events", token: token, until: ["succeeded", "failed", "canceled"], timeout: .seconds(180)
        )
        #expect(events.last?.0 == "succeeded", "events: \(events)\n\(suite.logs)")
        let job = try await api.call("GET", "/api/v1/generations/\(jobID)", token: token)
        let images = (job.json["images"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        return (try #require(submitted.json["cost"] as? Int), images)
    }
}
