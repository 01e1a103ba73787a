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
    }

    /// The request that makes this image again: its own seed, a batch of one. A ControlNet needs its
    /// image again (`controlImage`), since the recipe does not keep it.
    func request(controlImage: String?) -> JobRequest {
        JobRequest(
            model: model, prompt: prompt, negativePrompt: negativePrompt, width: width, height: height, steps: steps,
            cfgScale: cfgScale, seed: seed, sampler: sampler, scheduler: scheduler, batchSize: 1, loras: loras,
            controlnet: controlnet.map { JobRequest.ControlNet(model: $0.model, image: controlImage ?? "", strength: $0.strength) }
        )
    }

    enum CodingKeys: String, CodingKey {
        case model, prompt, width, height, steps, sampler, scheduler, seed, loras, controlnet, engine
        case negativePrompt = "negative_prompt"
        case cfgScale = "cfg_scale"
        case batchIndex = "batch_index"
        case batchSize = "batch_size"
    }
}
