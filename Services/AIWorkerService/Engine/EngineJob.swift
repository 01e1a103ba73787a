/// Everything an engine needs for one job: the request's fields, resolved, plus the model's files.
struct EngineJob: Sendable {
    /// A LoRA with its file and weight.
    struct LoRA: Sendable, Equatable {
        var name: String
        var path: String
        var weight: Double
    }

    /// ControlNet conditioning: its model file, the decoded control image (PNG bytes) and strength.
    struct ControlNet: Sendable, Equatable {
        var name: String
        var path: String
        var image: [UInt8]
        var strength: Double
    }

    /// Catalog id of the model (cache key, logs).
    var model: String
    /// `preview`, `sd15`, `sdxl`, `flux`.
    var family: String
    var files: EngineModelFiles
    var prompt: String
    var negativePrompt: String
    var width: Int
    var height: Int
    var steps: Int
    var cfgScale: Double
    /// Nil: the engine's default for the family.
    var sampler: String?
    var scheduler: String?
    /// Resolved: the request's seed, or one the worker picked. Image `i` of a batch uses `seed + i`.
    var seed: Int64
    var batchSize: Int
    var loras: [LoRA]
    var controlNet: ControlNet?
    /// Polled by the engine between steps.
    var cancellation: EngineCancellation
    /// Image-to-image: the init image (PNG bytes), scaled to the job's size by the engine.
    var initImage: [UInt8]? = nil
    /// With `initImage`: 0 gives the init image back, 1 a new image.
    var strength: Double = 0.75
    /// Inpainting: a PNG of the init image's size; white (>= 128) is repainted, the rest keeps the
    /// init image's pixels exactly.
    var mask: [UInt8]? = nil
    /// Upscaling instead of generating: the ESRGAN model file; `initImage` is upscaled by its factor.
    var upscaler: String? = nil
}
