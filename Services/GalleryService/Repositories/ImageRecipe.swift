import Core

/// Everything that made one image: the request as submitted (ControlNet without its image), the
/// seed this image was made with, its index in the batch, and the engine that ran it.
struct ImageRecipe: Codable, Sendable, Equatable {
    var model: String
    var prompt: String
    var negativePrompt: String?
    var width: Int
    var height: Int
    var steps: Int
    var cfgScale: Double
    var sampler: String?
    var scheduler: String?
    var seed: Int64
    var batchIndex: Int
    var batchSize: Int
    var loras: [JobRequest.LoRA]
    var controlnet: ControlNet?
    var engine: String
    /// The style preset applied, and the prompts it gave the engine.
    var style: String? = nil
    var styledPrompt: String? = nil
    var styledNegativePrompt: String? = nil
    /// Image-to-image: the caller's image it started from (an uploaded one is not kept), the strength,
    /// and whether a mask limited the repaint.
    var initImageID: String? = nil
    var strength: Double? = nil
    var inpainted: Bool? = nil
    /// Upscaling: the upscaler's factor (the model is the upscaler, `init_image_id` the source image
    /// when it was one of the caller's, `width` x `height` the output).
    var upscaleFactor: Int? = nil

    struct ControlNet: Codable, Sendable, Equatable {
        var model: String
        var strength: Double
    }

    init(request: JobRequest, image: ProducedImage, batchIndex: Int) {
        model = request.model
        prompt = request.prompt
        negativePrompt = request.negativePrompt
        width = request.width
        height = request.height
        steps = request.steps
        cfgScale = request.cfgScale
        sampler = request.sampler
        scheduler = request.scheduler
        seed = image.seed
        self.batchIndex = batchIndex
        batchSize = request.batchSize
        loras = request.loras
        controlnet = request.controlnet.map { ControlNet(model: $0.model, strength: $0.strength) }
        engine = image.engine
        style = request.style
        styledPrompt = request.styledPrompt
        styledNegativePrompt = request.styledNegativePrompt
        initImageID = request.initImageID
        strength = request.hasInitImage && !request.isUpscale ? request.effectiveStrength : nil
        upscaleFactor = request.upscaleFactor
        inpainted = request.mask != nil ? true : nil
    }

    /// The request that makes this image again: its own seed, a batch of one. A ControlNet needs its
    /// image again (`controlImage`), since the recipe does not keep it.
    func request(controlImage: String?) -> JobRequest {
        // An upscale again: the same source image through the same upscaler; the size follows from them.
        if upscaleFactor != nil { return JobRequest(model: model, prompt: "", width: 0, height: 0, steps: 0, cfgScale: 0, initImageID: initImageID) }
        return JobRequest(
            model: model, prompt: prompt, negativePrompt: negativePrompt, width: width, height: height, steps: steps,
            cfgScale: cfgScale, seed: seed, sampler: sampler, scheduler: scheduler, batchSize: 1, loras: loras,
            controlnet: controlnet.map { JobRequest.ControlNet(model: $0.model, image: controlImage ?? "", strength: $0.strength) },
            initImageID: initImageID, strength: initImageID != nil ? strength : nil, style: style
        )
    }

    enum CodingKeys: String, CodingKey {
        case model, prompt, width, height, steps, sampler, scheduler, seed, loras, controlnet, engine
        case negativePrompt = "negative_prompt"
        case cfgScale = "cfg_scale"
        case batchIndex = "batch_index"
        case batchSize = "batch_size"
        case style, strength, inpainted
        case styledPrompt = "styled_prompt"
        case styledNegativePrompt = "styled_negative_prompt"
        case initImageID = "init_image_id"
        case upscaleFactor = "upscale_factor"
    }
}
