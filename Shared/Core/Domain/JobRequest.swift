/// What a client asks to generate: the body of `POST /api/v1/generations`.
///
/// Keys are snake_case. `batch_size` defaults to 1 and `loras` to `[]` when absent; unknown
/// fields are ignored. Limits (sizes, steps, which LoRAs exist) are the model router's business:
/// `prompt`, `width`, `height`, `steps` and `cfg_scale` decode as empty and 0 when absent, because an
/// upscaler takes none of them and a generating model refuses the empty values with a 422.
package struct JobRequest: Codable, Sendable, Equatable, Hashable {
    package var model: String
    package var prompt: String
    package var negativePrompt: String?
    package var width: Int
    package var height: Int
    package var steps: Int
    package var cfgScale: Double
    /// Nil means "pick one"; the worker reports the seed it used on each image.
    package var seed: Int64?
    package var sampler: String?
    package var scheduler: String?
    package var batchSize: Int
    package var loras: [LoRA]
    package var controlnet: ControlNet?
    /// Image-to-image: the starting image as base64 PNG, or (`initImageID`) one of the caller's
    /// images; scaled to `width` x `height`.
    package var initImage: String?
    package var initImageID: String?
    /// With an init image: how far from it the result may go, 0 (the init image) to 1 (a new image;
    /// default 0.75).
    package var strength: Double?
    /// Inpainting (with an init image): base64 PNG of the init image's size, white = repaint, black = keep.
    package var mask: String?
    /// A style preset's id (`GET /api/v1/styles`).
    package var style: String?
    /// Set by generation from the router's answer (anything a client sends is replaced): the prompts
    /// with the style applied, what the engine gets. Nil without a style.
    package var styledPrompt: String?
    package var styledNegativePrompt: String?
    /// Set by generation from the router's answer for an upscaler (anything a client sends is
    /// replaced): the model's factor; `width` and `height` are then the output size.
    package var upscaleFactor: Int?

    package init(
        model: String,
        prompt: String,
        negativePrompt: String? = nil,
        width: Int,
        height: Int,
        steps: Int,
        cfgScale: Double,
        seed: Int64? = nil,
        sampler: String? = nil,
        scheduler: String? = nil,
        batchSize: Int = 1,
        loras: [LoRA] = [],
        controlnet: ControlNet? = nil,
        initImage: String? = nil,
        initImageID: String? = nil,
        strength: Double? = nil,
        mask: String? = nil,
        style: String? = nil
    ) {
        self.model = model
        self.prompt = prompt
        self.negativePrompt = negativePrompt
        self.width = width
        self.height = height
        self.steps = steps
        self.cfgScale = cfgScale
        self.seed = seed
        self.sampler = sampler
        self.scheduler = scheduler
        self.batchSize = batchSize
        self.loras = loras
        self.controlnet = controlnet
        self.initImage = initImage
        self.initImageID = initImageID
        self.strength = strength
        self.mask = mask
        self.style = style
    }

    /// A LoRA applied on top of the base model.
    package struct LoRA: Codable, Sendable, Equatable, Hashable {
        package var name: String
        package var weight: Double

        package init(name: String, weight: Double) {
            self.name = name
            self.weight = weight
        }
    }

    /// A ControlNet conditioning: which model, the control image (base64 PNG) and its strength.
    package struct ControlNet: Codable, Sendable, Equatable, Hashable {
        package var model: String
        package var image: String
        package var strength: Double

        package init(model: String, image: String, strength: Double) {
            self.model = model
            self.image = image
            self.strength = strength
        }
    }

    enum CodingKeys: String, CodingKey {
        case model, prompt, width, height, steps, seed, sampler, scheduler, loras, controlnet, strength, mask, style
        case styledPrompt = "styled_prompt"
        case styledNegativePrompt = "styled_negative_prompt"
        case upscaleFactor = "upscale_factor"
        case initImage = "init_image"
        case initImageID = "init_image_id"
        case negativePrompt = "negative_prompt"
        case cfgScale = "cfg_scale"
        case batchSize = "batch_size"
    }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        model = try c.decode(String.self, forKey: .model)
        prompt = try c.decodeIfPresent(String.self, forKey: .prompt) ?? ""
        negativePrompt = try c.decodeIfPresent(String.self, forKey: .negativePrompt)
        width = try c.decodeIfPresent(Int.self, forKey: .width) ?? 0
        height = try c.decodeIfPresent(Int.self, forKey: .height) ?? 0
        steps = try c.decodeIfPresent(Int.self, forKey: .steps) ?? 0
        cfgScale = try c.decodeIfPresent(Double.self, forKey: .cfgScale) ?? 0
        seed = try c.decodeIfPresent(Int64.self, forKey: .seed)
        sampler = try c.decodeIfPresent(String.self, forKey: .sampler)
        scheduler = try c.decodeIfPresent(String.self, forKey: .scheduler)
        batchSize = try c.decodeIfPresent(Int.self, forKey: .batchSize) ?? 1
        loras = try c.decodeIfPresent([LoRA].self, forKey: .loras) ?? []
        controlnet = try c.decodeIfPresent(ControlNet.self, forKey: .controlnet)
        initImage = try c.decodeIfPresent(String.self, forKey: .initImage)
        initImageID = try c.decodeIfPresent(String.self, forKey: .initImageID)
        strength = try c.decodeIfPresent(Double.self, forKey: .strength)
        mask = try c.decodeIfPresent(String.self, forKey: .mask)
        style = try c.decodeIfPresent(String.self, forKey: .style)
        styledPrompt = try c.decodeIfPresent(String.self, forKey: .styledPrompt)
        styledNegativePrompt = try c.decodeIfPresent(String.self, forKey: .styledNegativePrompt)
        upscaleFactor = try c.decodeIfPresent(Int.self, forKey: .upscaleFactor)
    }
}

extension JobRequest {
    /// Sampling steps over the whole batch: what a job's run time grows with, for a given model and size.
    package var work: Int { max(1, steps) * max(1, batchSize) }

    /// What the engine is given: the styled prompts when a style applies, else the request's.
    package var enginePrompt: String { styledPrompt ?? prompt }
    package var engineNegativePrompt: String { styledNegativePrompt ?? negativePrompt ?? "" }

    /// The request as its client sent it, for submitting it again: an upscale's output size and
    /// factor, which generation filled in from the router's answer, cleared.
    package var asSubmitted: JobRequest {
        var request = self
        if request.isUpscale {
            request.width = 0
            request.height = 0
            request.upscaleFactor = nil
        }
        return request
    }

    /// Whether the job upscales its init image (set once the router has priced it as an upscale).
    package var isUpscale: Bool { upscaleFactor != nil }

    /// Whether the job starts from an image (image-to-image, inpainting or upscaling).
    package var hasInitImage: Bool { initImage != nil || initImageID != nil }

    /// The strength an init image is used with (the request's, or 0.75).
    package var effectiveStrength: Double { strength ?? 0.75 }

    /// Sampling steps the engine runs per image: all of them for text-to-image; from an init image
    /// what stable-diffusion.cpp runs, `⌊steps × strength⌋ + 1` (at most `steps`).
    package var samplingSteps: Int {
        let strength = min(max(effectiveStrength, 0), 1)
        if isUpscale { return 1 }
        guard hasInitImage, strength < 1 else { return steps }
        var skipped = Int(Float(steps) * Float(strength))
        if skipped == steps { skipped -= 1 }
        return max(1, skipped + 1)
    }
}
