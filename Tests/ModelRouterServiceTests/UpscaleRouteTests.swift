import Core
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import TestSupport
import Testing
@testable import ModelRouterService

/// Upscalers (`realesrgan-x2`, `realesrgan-x4` of config/models.json) through `POST /internal/route`
/// and `GET /api/v1/models`.
@Suite(.timeLimit(.minutes(2))) struct UpscaleRouteTests {
    /// An upscale of a `width` x `height` PNG sent in the request, nothing else set.
    static func upscale(_ model: String = "realesrgan-x4", _ width: Int = 256, _ height: Int = 128, _ change: (inout JobRequest) -> Void = { _ in }) -> JobRequest {
        var request = JobRequest(model: model, prompt: "", width: 0, height: 0, steps: 0, cfgScale: 0, initImage: RouteTests.png(width, height))
        change(&request)
        return request
    }

    /// The JSON a client sends, decoded as generation decodes it: an upscaler needs no prompt, size, steps or cfg.
    @Test func aBodyWithoutPromptSizeStepsOrCfgDecodes() throws {
        let json = #"{"model":"realesrgan-x2","init_image_id":"6f1c1d2e-6a43-4d0e-9a57-1f1f2a3b4c5d"}"#
        let request = try WireCodec.decodeBody(JobRequest.self, from: Array(json.utf8))
        #expect(request.prompt == "" && request.width == 0 && request.height == 0 && request.steps == 0 && request.cfgScale == 0)
        #expect(request.batchSize == 1 && request.initImageID != nil && request.upscaleFactor == nil)
    }

    /// One field each that an upscale request must not carry (or lacks), with the field the 422 names.
    enum Invalid: String, CaseIterable, Sendable {
        case prompt, negativePrompt, width, height, steps, cfgScale, seed, sampler, scheduler, batchSize, loras, controlnet
        case strength, mask, style, noInitImage, bothInitImages, initImageNotPNG, initImageTooLarge, initImageTooSmall
        case initImageIDNotAnID, initImageIDWithoutKnownSize, initImageIDTooLarge

        var field: String {
            switch self {
            case .prompt: "prompt"
            case .negativePrompt: "negative_prompt"
            case .width: "width"
            case .height: "height"
            case .steps: "steps"
            case .cfgScale: "cfg_scale"
            case .seed: "seed"
            case .sampler: "sampler"
            case .scheduler: "scheduler"
            case .batchSize: "batch_size"
            case .loras: "loras"
            case .controlnet: "controlnet"
            case .strength: "strength"
            case .mask: "mask"
            case .style: "style"
            case .noInitImage, .bothInitImages, .initImageNotPNG, .initImageTooLarge, .initImageTooSmall: "init_image"
            case .initImageIDNotAnID, .initImageIDWithoutKnownSize, .initImageIDTooLarge: "init_image_id"
            }
        }

        var route: RouteRequest {
            let id = UUID().uuidString.lowercased()
            var sizes: (Int?, Int?) = (nil, nil)
            let request = UpscaleRouteTests.upscale { r in
                switch self {
                case .prompt: r.prompt = "a lighthouse"
                case .negativePrompt: r.negativePrompt = "blurry"
                case .width: r.width = 1024
                case .height: r.height = 512
                case .steps: r.steps = 20
                case .cfgScale: r.cfgScale = 7
                case .seed: r.seed = 42
                case .sampler: r.sampler = "euler_a"
                case .scheduler: r.scheduler = "karras"
                case .batchSize: r.batchSize = 2
                case .loras: r.loras = [.init(name: "add-detail", weight: 0.5)]
                case .controlnet: r.controlnet = .init(model: "canny", image: RouteTests.png(256, 128), strength: 1)
                case .strength: r.strength = 0.5
                case .mask: r.mask = RouteTests.png(256, 128)
                case .style: r.style = "anime"
                case .noInitImage: r.initImage = nil
                case .bothInitImages: r.initImageID = id
                case .initImageNotPNG: r.initImage = Data("GIF89a not a png at all, really not".utf8).base64EncodedString()
                // x4 outputs at most 4096 x 4096: the input at most 1024 x 1024.
                case .initImageTooLarge: r.initImage = RouteTests.png(1025, 512)
                case .initImageTooSmall: r.initImage = RouteTests.png(32, 128)
                case .initImageIDNotAnID: r.initImage = nil; r.initImageID = "../etc/passwd"
                case .initImageIDWithoutKnownSize: r.initImage = nil; r.initImageID = id
                case .initImageIDTooLarge: r.initImage = nil; r.initImageID = id; sizes = (512, 2048)
                }
            }
            return RouteRequest(userID: UserID(), plan: .free, request: request, initImageWidth: sizes.0, initImageHeight: sizes.1)
        }
    }

    @Test(arguments: Invalid.allCases)
    func invalidFieldIsA422NamingIt(_ invalid: Invalid) async throws {
        let fixture = try RouterFixture()
        try await fixture.app().test(.router) { client in
            try await client.execute(uri: "/internal/route", method: .post, headers: .serviceCredential(), body: try RouterFixture.body(invalid.route)) { response in
                #expect(response.status == .unprocessableContent)
                #expect(response.headers[.contentType] == "application/problem+json")
                let problem = try RouterFixture.json(response.body)
                #expect(problem["type"] as? String == "https://pingvas.studio/problems/validation-failed")
                let errors = try #require(problem["errors"] as? [String: String], "\(problem)")
                #expect(Array(errors.keys) == [invalid.field], "errors: \(errors)")
            }
        }
    }

    /// Priced per output megapixel (one "step"): x2 of 256 x 128 is 512 x 256, x4 is 1024 x 512;
    /// the answer carries the factor and the output size; `init_image_id` uses the size generation sends.
    @Test func anUpscaleIsPricedAndRoutedByItsOutputSize() async throws {
        let fixture = try RouterFixture()
        try await fixture.app().test(.router) { client in
            let routes = [
                RouterFixture.route(Self.upscale("realesrgan-x2")),
                RouterFixture.route(Self.upscale("realesrgan-x4")),
                RouteRequest(
                    userID: UserID(), plan: .free, request: Self.upscale("realesrgan-x4") { $0.initImage = nil; $0.initImageID = UUID().uuidString },
                    initImageWidth: 1024, initImageHeight: 1024
                ),
            ]
            var answers: [[String: Any]] = []
            for route in routes {
                try await client.execute(uri: "/internal/route", method: .post, headers: .serviceCredential(), body: try RouterFixture.body(route)) { response in
                    #expect(response.status == .ok, "\(String(buffer: response.body))")
                    answers.append(try RouterFixture.json(response.body))
                }
            }
            try #require(answers.count == 3)
            #expect(answers.map { $0["queue"] as? String } == ["gpu-sd15", "gpu-sd15", "gpu-sd15"])
            #expect(answers.map { $0["model_family"] as? String } == ["esrgan", "esrgan", "esrgan"])
            #expect(answers.map { $0["upscale_factor"] as? Int } == [2, 4, 4])
            #expect(answers.map { $0["width"] as? Int } == [512, 1024, 4096])
            #expect(answers.map { $0["height"] as? Int } == [256, 512, 4096])
            // base 1 + ⌈w × h × 250 / 10⁹⌉: 512 x 256 → 1 + 1, 1024 x 512 → 1 + 1, 4096 x 4096 → 1 + 5
            #expect(answers.map { $0["cost"] as? Int } == [2, 2, 6])
            #expect(answers.allSatisfy { ($0["estimated_seconds"] as? Double ?? 0) > 0 })
        }
    }

    @Test func upscalersAreListedWithTheirCapabilityAndFactor() async throws {
        let fixture = try RouterFixture()
        try await fixture.app().test(.router) { client in
            try await client.execute(uri: "/api/v1/models", method: .get) { response in
                #expect(response.status == .ok)
                let items = try #require(try RouterFixture.json(response.body)["items"] as? [[String: Any]])
                let byID = Dictionary(uniqueKeysWithValues: items.map { ($0["id"] as? String ?? "", $0) })
                for (id, factor) in [("realesrgan-x2", 2), ("realesrgan-x4", 4)] {
                    let model = try #require(byID[id], "\(id) is listed")
                    #expect(model["capabilities"] as? [String] == ["upscale"])
                    #expect(model["upscale_factor"] as? Int == factor)
                    #expect(model["family"] as? String == "esrgan")
                    #expect(model["files"] == nil, "weight paths stay internal")
                }
                #expect(byID["sd15"]?["upscale_factor"] == nil, "only upscalers have a factor")
            }
        }
    }

    /// The catalog refuses upscaler entries that could not run.
    @Test func theCatalogChecksUpscalerEntries() throws {
        func entry(_ change: (inout [String: Any]) -> Void) throws -> [String] {
            var model: [String: Any] = [
                "id": "up", "name": "Up", "family": "esrgan", "engine": "sdcpp", "pool": "gpu-sd15", "capabilities": ["upscale"],
                "upscale_factor": 2, "files": ["upscaler": "esrgan/x2.pth"],
                "limits": [
                    "min_width": 64, "max_width": 2048, "min_height": 64, "max_height": 2048, "multiple_of": 1, "max_steps": 1, "max_batch": 1,
                    "min_cfg_scale": 0, "max_cfg_scale": 0, "samplers": ["esrgan"],
                    "defaults": ["width": 512, "height": 512, "steps": 1, "cfg_scale": 0, "sampler": "esrgan"],
                ] as [String: Any],
                "pricing": ["base": 1, "per_megapixel_step_milli": 250, "per_lora": 0, "controlnet": 0],
            ]
            change(&model)
            let data = try JSONSerialization.data(withJSONObject: ["version": 1, "models": [model]])
            do {
                _ = try ModelCatalog.parse(Array(data))
                return []
            } catch let error as ModelCatalogError {
                return error.problems
            }
        }
        #expect(try entry { _ in }.isEmpty)
        #expect(try entry { $0["upscale_factor"] = 3 } == ["model up: upscale_factor must be 2 or 4"])
        #expect(try entry { $0["files"] = ["checkpoint": "x.ckpt"] } == ["model up: an esrgan model needs files.upscaler"])
        #expect(try entry { $0["capabilities"] = ["upscale", "txt2img"] } == ["model up: an esrgan model has exactly the capability upscale"])
        #expect(try entry { $0["family"] = "sd15"; $0["files"] = ["checkpoint": "x.ckpt"]; $0["capabilities"] = ["txt2img", "upscale"] }
            .contains("model up: only esrgan models upscale"))
    }
}
