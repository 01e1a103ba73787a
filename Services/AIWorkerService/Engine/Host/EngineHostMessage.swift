import Foundation

/// One frame between the worker and its engine child (`ai-worker engine-host`), in either direction.
///
/// The worker sends `generate` (with the job) and `cancel`; the child answers a job with `progress`
/// frames, one `image` frame per image (its RGB pixels as the frame's payload) and then `done`, or
/// `failed`. A frame is `[u32 header length][header JSON][u32 payload length][payload]`, big-endian.
struct EngineHostMessage: Codable, Sendable {
    enum Kind: String, Codable, Sendable {
        case generate, cancel, progress, image, done, failed
    }

    var kind: Kind
    /// `generate`: the job.
    var job: EngineHostJob?
    /// `cancel`: `EngineCancellation.Reason`'s raw value.
    var reason: Int?
    /// `progress`: step, steps, image index, image count.
    var progress: [Int]?
    /// `image`: size and seed of the payload's pixels.
    var width: Int?
    var height: Int?
    var seed: Int64?
    /// `failed`: the `EngineError` it was.
    var code: String?
    var message: String?
    /// `done`: how long the child's engine took for the job, in seconds (the worker subtracts it
    /// from what it measured to know the cost of the process boundary).
    var engineSeconds: Double?
    /// `done`, `failed`: catalog ids of the models the child has loaded, and their memory.
    var loaded: [String]?
    var loadedBytes: UInt64?

    init(_ kind: Kind) { self.kind = kind }
}

/// `EngineJob` as it crosses the process boundary (everything but the cancellation flag, which
/// becomes `cancel` frames).
struct EngineHostJob: Codable, Sendable {
    var model: String
    var family: String
    var checkpoint: String?
    var diffusionModel: String?
    var clipL: String?
    var clipG: String?
    var t5xxl: String?
    var vae: String?
    var prompt: String
    var negativePrompt: String
    var width: Int
    var height: Int
    var steps: Int
    var cfgScale: Double
    var sampler: String?
    var scheduler: String?
    var seed: Int64
    var batchSize: Int
    var loras: [LoRA]
    var controlNet: ControlNet?
    var initImage: Data?
    var strength: Double
    var mask: Data?
    var upscaler: String?

    struct LoRA: Codable, Sendable {
        var name: String
        var path: String
        var weight: Double
    }

    struct ControlNet: Codable, Sendable {
        var name: String
        var path: String
        var image: Data
        var strength: Double
    }

    init(_ job: EngineJob) {
        model = job.model
        family = job.family
        checkpoint = job.files.checkpoint
        diffusionModel = job.files.diffusionModel
        clipL = job.files.clipL
        clipG = job.files.clipG
        t5xxl = job.files.t5xxl
        vae = job.files.vae
        prompt = job.prompt
        negativePrompt = job.negativePrompt
        width = job.width
        height = job.height
        steps = job.steps
        cfgScale = job.cfgScale
        sampler = job.sampler
        scheduler = job.scheduler
        seed = job.seed
        batchSize = job.batchSize
        loras = job.loras.map { LoRA(name: $0.name, path: $0.path, weight: $0.weight) }
        controlNet = job.controlNet.map { ControlNet(name: $0.name, path: $0.path, image: Data($0.image), strength: $0.strength) }
        initImage = job.initImage.map { Data($0) }
        strength = job.strength
        mask = job.mask.map { Data($0) }
        upscaler = job.upscaler
    }

    func engineJob(cancellation: EngineCancellation) -> EngineJob {
        EngineJob(
            model: model, family: family,
            files: EngineModelFiles(checkpoint: checkpoint, diffusionModel: diffusionModel, clipL: clipL, clipG: clipG, t5xxl: t5xxl, vae: vae),
            prompt: prompt, negativePrompt: negativePrompt, width: width, height: height, steps: steps, cfgScale: cfgScale,
            sampler: sampler, scheduler: scheduler, seed: seed, batchSize: batchSize,
            loras: loras.map { EngineJob.LoRA(name: $0.name, path: $0.path, weight: $0.weight) },
            controlNet: controlNet.map { EngineJob.ControlNet(name: $0.name, path: $0.path, image: Array($0.image), strength: $0.strength) },
            cancellation: cancellation, initImage: initImage.map { Array($0) }, strength: strength, mask: mask.map { Array($0) },
            upscaler: upscaler
        )
    }
}
