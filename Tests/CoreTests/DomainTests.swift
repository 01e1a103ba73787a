import Core
import Foundation
import Testing

@Suite(.timeLimit(.minutes(2))) struct DomainTests {
    @Test func identifierParsesUUIDsAndRejectsJunk() throws {
        let id = try #require(UserID("8E0C1F9A-3B7E-4C2D-9A51-6F0E2D4B7C10"))
        #expect(id.description == "8e0c1f9a-3b7e-4c2d-9a51-6f0e2d4b7c10")
        #expect(UserID(id.description) == id)
        for junk in ["", "hello", "8e0c1f9a3b7e4c2d9a516f0e2d4b7c10", "8e0c1f9a-3b7e-4c2d-9a51-6f0e2d4b7c1", "8e0c1f9a-3b7e-4c2d-9a51-6f0e2d4b7c10 ",
            "{8e0c1f9a-3b7e-4c2d-9a51-6f0e2d4b7c10}", "zzzzzzzz-3b7e-4c2d-9a51-6f0e2d4b7c10"]
        {
            #expect(UserID(junk) == nil, "\(junk)")
        }
        #expect(JobID() != JobID())
    }

    @Test func identifierEncodesAsALowercasedString() throws {
        let id = try #require(JobID("0B9D2C3E-1F4A-4E6B-8C7D-5A9E0F1B2C3D"))
        #expect(String(decoding: try WireCodec.encodeBody([id]), as: UTF8.self) == #"["0b9d2c3e-1f4a-4e6b-8c7d-5a9e0f1b2c3d"]"#)
        #expect(try WireCodec.decodeBody([JobID].self, from: Array(#"["0b9d2c3e-1f4a-4e6b-8c7d-5a9e0f1b2c3d"]"#.utf8)) == [id])
        #expect(throws: WireCodecError.self) { try WireCodec.decodeBody([JobID].self, from: Array(#"["nope"]"#.utf8)) }
    }

    @Test func creditsAreABareIntegerWithArithmetic() throws {
        let balance: Credits = 100
        #expect(String(decoding: try WireCodec.encodeBody(balance), as: UTF8.self) == "100")
        #expect(try WireCodec.decodeBody(Credits.self, from: Array("-7".utf8)) == Credits(-7))
        #expect(throws: WireCodecError.self) { try WireCodec.decodeBody(Credits.self, from: Array(#""100""#.utf8)) }
        #expect(balance - 30 + 5 == 75)
        #expect(Credits.zero < balance)
        #expect([Credits(3), 4, 5].reduce(.zero, +) == 12)
        #expect(Credits(4) * 3 == 12)
    }

    @Test func terminalStatuses() {
        #expect(JobStatus.allCases.filter(\.isTerminal) == [.succeeded, .failed, .canceled])
    }

    @Test func plansAreOrderedByPriorityAndLimitsGrow() {
        let ordered = Plan.allCases.sorted { $0.priority > $1.priority }
        #expect(ordered == [.studio, .pro, .basic, .free])
        for (lower, higher) in zip(Plan.allCases, Plan.allCases.dropFirst()) {
            #expect(lower.maxQueuedJobs <= higher.maxQueuedJobs)
            #expect(lower.maxRunningJobs <= higher.maxRunningJobs)
            #expect(lower.requestsPerMinute < higher.requestsPerMinute)
            #expect(lower < higher)
        }
        #expect(Plan.allCases.allSatisfy { $0.maxRunningJobs >= 1 && $0.maxQueuedJobs >= $0.maxRunningJobs })
    }

    @Test func jobRequestDefaultsAndToleratesUnknownFields() throws {
        let body = #"{"model":"sd15","prompt":"a cat","width":512,"height":512,"steps":20,"cfg_scale":7,"hires_fix":true,"vibe":{"x":1}}"#
        let request = try WireCodec.decodeBody(JobRequest.self, from: Array(body.utf8))
        #expect(request == JobRequest(model: "sd15", prompt: "a cat", width: 512, height: 512, steps: 20, cfgScale: 7))
        #expect(request.batchSize == 1)
        #expect(request.loras.isEmpty)
        #expect(request.seed == nil && request.controlnet == nil && request.negativePrompt == nil)
    }

    @Test func jobRequestReadsTheFullPublicShape() throws {
        let body = """
            {"model":"sdxl-base-1.0","prompt":"a lighthouse at dusk, oil painting","negative_prompt":"blurry","width":1024,"height":1024,
             "steps":30,"cfg_scale":7.5,"seed":42,"sampler":"euler_a","scheduler":"karras","batch_size":2,
             "loras":[{"name":"watercolor","weight":0.8}],"controlnet":{"model":"canny-sdxl","image":"iVBORw0KGgo=","strength":0.6}}
            """
        #expect(try WireCodec.decodeBody(JobRequest.self, from: Array(body.utf8)) == Fixtures.request)
    }

    @Test func jobRequestWithAWrongFieldTypeIsRejected() {
        let body = #"{"model":"sd15","prompt":"a cat","width":"512","height":512,"steps":20,"cfg_scale":7}"#
        #expect(throws: WireCodecError.malformed("width: expected Int")) {
            try WireCodec.decodeBody(JobRequest.self, from: Array(body.utf8))
        }
        let noModel = #"{"prompt":"a cat","width":512,"height":512,"steps":20,"cfg_scale":7}"#
        #expect(throws: WireCodecError.missingField("model")) { try WireCodec.decodeBody(JobRequest.self, from: Array(noModel.utf8)) }
    }

    /// A stored upscale job carries its output size and factor (from the router); submitted again (an
    /// admin's requeue) it is the client's request: no size, no factor. Other requests stay as they are.
    @Test func anUpscaleSubmittedAgainDropsWhatTheRouterFilledIn() {
        var upscale = JobRequest(model: "realesrgan-x2", prompt: "", width: 128, height: 128, steps: 0, cfgScale: 0, initImageID: UUID().uuidString)
        upscale.upscaleFactor = 2
        #expect(upscale.isUpscale && upscale.samplingSteps == 1)
        let again = upscale.asSubmitted
        #expect(again.width == 0 && again.height == 0 && again.upscaleFactor == nil && again.initImageID == upscale.initImageID)
        let txt = JobRequest(model: "sd15", prompt: "a cat", width: 512, height: 512, steps: 20, cfgScale: 7)
        #expect(txt.asSubmitted == txt)
    }

    /// An upscaler takes no prompt, size, steps or cfg scale: absent they decode empty and 0, and the
    /// router refuses those values for a generating model (422 naming each).
    @Test func jobRequestWithoutPromptSizeStepsOrCfgDecodesEmpty() throws {
        let missing = #"{"model":"sd15","width":512,"height":512,"cfg_scale":7}"#
        let request = try WireCodec.decodeBody(JobRequest.self, from: Array(missing.utf8))
        #expect(request.prompt == "" && request.steps == 0 && request.width == 512 && request.cfgScale == 7)
    }
}
