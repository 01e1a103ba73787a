import Core
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import TestSupport
import Testing
@testable import ModelRouterService

@Suite(.timeLimit(.minutes(2))) struct RouteTests {
    static func sd15(_ change: (inout JobRequest) -> Void = { _ in }) -> JobRequest {
        var request = JobRequest(model: "sd15", prompt: "a lighthouse at dusk", width: 512, height: 512, steps: 25, cfgScale: 7, sampler: "euler_a")
        change(&request)
        return request
    }

    /// One invalid field each, with the field the 422 must name.
    enum Invalid: String, CaseIterable, Sendable {
        case widthTooLarge, widthNotMultiple, heightTooSmall, stepsZero, stepsTooMany, batchTooLarge, cfgOutOfRange
        case samplerNotAllowed, unknownLora, promptEmpty, promptTooLong, negativePromptTooLong, controlnetOnSDXL, seedNegative
        case strengthTooHigh, strengthWithoutInitImage, initImageNotPNG, initImageOnPreview, maskSizeMismatch, maskOnFlux, maskWithoutInitImage
        case initImageAndID, initImageIDNotAnID, unknownStyle, styleNotForFamily

        var field: String {
            switch self {
            case .widthTooLarge, .widthNotMultiple: "width"
            case .heightTooSmall: "height"
            case .stepsZero, .stepsTooMany: "steps"
            case .batchTooLarge: "batch_size"
            case .cfgOutOfRange: "cfg_scale"
            case .samplerNotAllowed: "sampler"
            case .unknownLora: "loras"
            case .promptEmpty, .promptTooLong: "prompt"
            case .negativePromptTooLong: "negative_prompt"
            case .controlnetOnSDXL: "controlnet"
            case .seedNegative: "seed"
            case .strengthTooHigh, .strengthWithoutInitImage: "strength"
            case .initImageNotPNG, .initImageOnPreview, .initImageAndID: "init_image"
            case .maskSizeMismatch, .maskOnFlux, .maskWithoutInitImage: "mask"
            case .initImageIDNotAnID: "init_image_id"
            case .unknownStyle, .styleNotForFamily: "style"
            }
        }

        var request: JobRequest {
            RouteTests.sd15 { r in
                switch self {
                case .widthTooLarge: r.width = 4096
                case .widthNotMultiple: r.width = 520
                case .heightTooSmall: r.height = 64
                case .stepsZero: r.steps = 0
                case .stepsTooMany: r.steps = 101
                case .batchTooLarge: r.batchSize = 5
                case .cfgOutOfRange: r.cfgScale = 50
                case .samplerNotAllowed: r.sampler = "bogus"
                case .unknownLora: r.loras = [.init(name: "no-such-lora", weight: 0.8)]
                case .promptEmpty: r.prompt = "   "
                case .promptTooLong: r.prompt = String(repeating: "a", count: 2001)
                case .negativePromptTooLong: r.negativePrompt = String(repeating: "b", count: 2001)
                case .controlnetOnSDXL:
                    r.model = "sdxl"; r.width = 1024; r.height = 1024; r.sampler = "euler"
                    r.controlnet = .init(model: "canny", image: "iVBORw0KGgo=", strength: 1)
                case .seedNegative: r.seed = -5
                case .strengthTooHigh: r.initImage = RouteTests.png(512, 512); r.strength = 1.5
                case .strengthWithoutInitImage: r.strength = 0.5
                case .initImageNotPNG: r.initImage = Data("GIF89a not a png at all, really not".utf8).base64EncodedString()
                case .initImageOnPreview:
                    r.model = "preview"; r.sampler = nil; r.initImage = RouteTests.png(512, 512)
                case .maskSizeMismatch: r.initImage = RouteTests.png(512, 512); r.mask = RouteTests.png(256, 512)
                case .maskOnFlux:
                    r.model = "flux-schnell"; r.width = 1024; r.height = 1024; r.steps = 4; r.cfgScale = 1; r.sampler = "euler"
                    r.initImage = RouteTests.png(1024, 1024); r.mask = RouteTests.png(1024, 1024)
                case .maskWithoutInitImage: r.mask = RouteTests.png(512, 512)
                case .initImageAndID: r.initImage = RouteTests.png(512, 512); r.initImageID = UUID().uuidString.lowercased()
                case .initImageIDNotAnID: r.initImageID = "../etc/passwd"
                case .unknownStyle: r.style = "vaporwave-9000"
                case .styleNotForFamily: r.model = "preview"; r.sampler = nil; r.style = "anime"
                }
            }
        }
    }

    /// The first 33 bytes of a PNG (signature and IHDR) declaring `width` x `height`, in base64: all
    /// the router reads of init images and masks.
    static func png(_ width: Int, _ height: Int) -> String {
        func be32(_ value: Int) -> [UInt8] { [UInt8(value >> 24 & 0xff), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff)] }
        let bytes: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + be32(13) + Array("IHDR".utf8) + be32(width) + be32(height)
            + [8, 2, 0, 0, 0] + [0, 0, 0, 0]
        return Data(bytes).base64EncodedString()
    }

    @Test func imageToImageAndInpaintingArePricedByTheStepsTheySample() async throws {
        let fixture = try RouterFixture()
        try await fixture.app().test(.router) { client in
            // 100 steps: text-to-image 1 + ⌈512 × 512 × 100 × 100 / 10⁹⌉ = 4; from an init image with strength
            // 0.5 the engine samples ⌊100 × 0.5⌋ + 1 = 51 steps: 1 + ⌈512 × 512 × 51 × 100 / 10⁹⌉ = 3
            let txt = Self.sd15 { $0.steps = 100 }
            let img = Self.sd15 { $0.steps = 100; $0.initImage = Self.png(640, 480); $0.strength = 0.5 }
            let inpaint = Self.sd15 { $0.steps = 100; $0.initImage = Self.png(640, 480); $0.strength = 0.5; $0.mask = Self.png(640, 480) }
            var costs: [Int] = []
            for request in [txt, img, inpaint] {
                try await client.execute(uri: "/internal/route", method: .post, headers: .serviceCredential(), body: try RouterFixture.body(RouterFixture.route(request))) { response in
                    #expect(response.status == .ok)
                    costs.append(try RouterFixture.json(response.body)["cost"] as? Int ?? -1)
                }
            }
            #expect(costs == [4, 3, 3])
        }
    }

    @Test func aStyleIsListedAndAppliedToThePromptsAndTheSampler() async throws {
        let fixture = try RouterFixture()
        try await fixture.app().test(.router) { client in
            try await client.execute(uri: "/api/v1/styles", method: .get) { response in
                #expect(response.status == .ok)
                let items = try #require(try RouterFixture.json(response.body)["items"] as? [[String: Any]])
                let anime = try #require(items.first { $0["id"] as? String == "anime" })
                #expect((anime["prompt_template"] as? String)?.contains("{prompt}") == true)
                #expect(anime["families"] as? [String] == ["sd15", "sdxl"])
                #expect((anime["defaults"] as? [String: Any])?["sampler"] as? String == "euler_a")
            }
            let styled = Self.sd15 { $0.style = "anime"; $0.sampler = nil; $0.negativePrompt = "text" }
            try await client.execute(uri: "/internal/route", method: .post, headers: .serviceCredential(), body: try RouterFixture.body(RouterFixture.route(styled))) { response in
                #expect(response.status == .ok)
                let body = try RouterFixture.json(response.body)
                #expect(body["styled_prompt"] as? String == "anime illustration of a lighthouse at dusk, clean line art, vibrant colors, cel shading")
                #expect(body["styled_negative_prompt"] as? String == "photo, realistic, 3d render, lowres, blurry, text")
                #expect(body["sampler"] as? String == "euler_a", "the style's sampler when the request names none")
            }
        }
    }

    @Test func validRequestIsPricedAndRoutedDeterministically() async throws {
        let fixture = try RouterFixture()
        try await fixture.app().test(.router) { client in
            var answers: [[String: Any]] = []
            for _ in 0..<2 {
                let body = try RouterFixture.body(RouterFixture.route(Self.sd15 { $0.loras = [.init(name: "add-detail", weight: 0.5)] }))
                try await client.execute(uri: "/internal/route", method: .post, headers: HTTPFields.serviceCredential().merging([.contentType: "application/json"]), body: body) { response in
                    #expect(response.status == .ok)
                    answers.append(try RouterFixture.json(response.body))
                }
            }
            let answer = try #require(answers.first)
            #expect(answer["queue"] as? String == "gpu-sd15", "the pool; generation names its stream")
            // 1 × (1 + 1 LoRA) + ⌈512 × 512 × 25 × 100 / 10⁹⌉ = 2 + 1
            #expect(answer["cost"] as? Int == 3)
            #expect(answer["model_family"] as? String == "sd15")
            #expect((answer["estimated_seconds"] as? Double ?? 0) > 0)
            #expect(answers[1]["cost"] as? Int == 3)

            let preview = JobRequest(model: "preview", prompt: "x", width: 256, height: 256, steps: 4, cfgScale: 7)
            try await client.execute(uri: "/internal/route", method: .post, headers: .serviceCredential(), body: try RouterFixture.body(RouterFixture.route(preview))) { response in
                let body = try RouterFixture.json(response.body)
                #expect(body["queue"] as? String == "cpu-preview")
                #expect(body["cost"] as? Int == 1)
                #expect(body["model_family"] as? String == "preview")
            }
        }
    }

    @Test(arguments: Invalid.allCases)
    func invalidFieldIsA422NamingIt(_ invalid: Invalid) async throws {
        let fixture = try RouterFixture()
        try await fixture.app().test(.router) { client in
            let body = try RouterFixture.body(RouterFixture.route(invalid.request))
            try await client.execute(uri: "/internal/route", method: .post, headers: .serviceCredential(), body: body) { response in
                #expect(response.status == .unprocessableContent)
                #expect(response.headers[.contentType] == "application/problem+json")
                let problem = try RouterFixture.json(response.body)
                #expect(problem["type"] as? String == "https://pingvas.studio/problems/validation-failed")
                let errors = try #require(problem["errors"] as? [String: String])
                #expect(Array(errors.keys) == [invalid.field], "errors: \(errors)")
            }
        }
    }

    @Test func everyInvalidFieldIsReportedAtOnce() async throws {
        let fixture = try RouterFixture()
        let request = Self.sd15 { $0.width = 100; $0.steps = 500; $0.sampler = "nope" }
        try await fixture.app().test(.router) { client in
            try await client.execute(uri: "/internal/route", method: .post, headers: .serviceCredential(), body: try RouterFixture.body(RouterFixture.route(request))) { response in
                let errors = try RouterFixture.json(response.body)["errors"] as? [String: String]
                #expect(Set(errors?.keys ?? [:].keys) == ["width", "steps", "sampler"])
            }
        }
    }

    @Test func unknownModelIsA422UnknownModel() async throws {
        let fixture = try RouterFixture()
        try await fixture.app().test(.router) { client in
            let body = try RouterFixture.body(RouterFixture.route(Self.sd15 { $0.model = "sd-9000" }))
            try await client.execute(uri: "/internal/route", method: .post, headers: .serviceCredential(), body: body) { response in
                #expect(response.status == .unprocessableContent)
                let type = try RouterFixture.json(response.body)["type"] as? String
                #expect(type == "https://pingvas.studio/problems/unknown-model")
            }
        }
    }

    @Test(arguments: ["{not json", "", "{\"user_id\": \"x\"}", "[1,2]"])
    func malformedBodyIsA400(_ text: String) async throws {
        let fixture = try RouterFixture()
        try await fixture.app().test(.router) { client in
            try await client.execute(uri: "/internal/route", method: .post, headers: .serviceCredential(), body: ByteBuffer(string: text)) { response in
                #expect(response.status == .badRequest)
                let type = try RouterFixture.json(response.body)["type"] as? String
                #expect(type == "https://pingvas.studio/problems/invalid-body")
            }
        }
    }

    @Test func wrongTypeIsA400() async throws {
        let fixture = try RouterFixture()
        let text = """
        {"user_id": "\(UserID())", "plan": "free", "request": {"model": "sd15", "prompt": "x", "width": "big", "height": 512, "steps": 20, "cfg_scale": 7}}
        """
        try await fixture.app().test(.router) { client in
            try await client.execute(uri: "/internal/route", method: .post, headers: .serviceCredential(), body: ByteBuffer(string: text)) { response in
                #expect(response.status == .badRequest)
                let detail = try RouterFixture.json(response.body)["detail"] as? String ?? ""
                #expect(detail.contains("request.width"))
            }
        }
    }
}
