import Foundation
/// One model of the catalog: what it is, where it runs, what it allows and what it costs.
package struct ModelEntry: Codable, Sendable, Equatable {
    package var id: String
    package var name: String
    package var family: ModelFamily
    package var engine: ModelEngineKind
    /// Worker pool: the job goes to the stream `pingvas:queue:<pool>`.
    package var pool: String
    package var limits: ModelLimits
    package var pricing: ModelPricing
    package var timing: ModelTiming
    package var files: ModelFiles
    package var loras: [ModelAddon]
    package var controlnets: [ModelAddon]
    /// What the model can be asked to do (default: its family's, `ModelCapability.defaults`).
    package var capabilities: [ModelCapability]
    /// An upscaler's factor (`upscale_factor`: 2 or 4): the output is the input this many times
    /// wider and higher. Nil for every other model.
    package var upscaleFactor: Int?

    package enum CodingKeys: String, CodingKey {
        case id, name, family, engine, pool, limits, pricing, timing, files, loras, controlnets, capabilities
        case upscaleFactor = "upscale_factor"
    }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        name = try c.decode(String.self, forKey: .name)
        family = try c.decode(ModelFamily.self, forKey: .family)
        engine = try c.decode(ModelEngineKind.self, forKey: .engine)
        pool = try c.decode(String.self, forKey: .pool)
        limits = try c.decode(ModelLimits.self, forKey: .limits)
        pricing = try c.decode(ModelPricing.self, forKey: .pricing)
        timing = try c.decodeIfPresent(ModelTiming.self, forKey: .timing)
            ?? ModelTiming(secondsPerMegapixelStep: 1, overheadSeconds: 1, loadSeconds: 10)
        files = try c.decodeIfPresent(ModelFiles.self, forKey: .files) ?? ModelFiles()
        loras = try c.decodeIfPresent([ModelAddon].self, forKey: .loras) ?? []
        controlnets = try c.decodeIfPresent([ModelAddon].self, forKey: .controlnets) ?? []
        capabilities = try c.decodeIfPresent([ModelCapability].self, forKey: .capabilities) ?? ModelCapability.defaults(for: family)
        upscaleFactor = try c.decodeIfPresent(Int.self, forKey: .upscaleFactor)
    }

    /// Whether the model upscales an init image rather than generating one.
    package var isUpscaler: Bool { can(.upscale) }

    package func can(_ capability: ModelCapability) -> Bool { capabilities.contains(capability) }

    /// Problems that make the entry unusable, each a sentence naming the model.
    package var problems: [String] {
        var found: [String] = []
        let l = limits
        func add(_ text: String) { found.append("model \(id): \(text)") }
        if id.isEmpty || id.contains(where: { $0.isWhitespace }) { add("id must be non-empty without spaces") }
        if pool.range(of: "^[a-z0-9][a-z0-9-]{0,62}$", options: .regularExpression) == nil { add("pool must be lower-case letters, digits and -") }
        if l.multipleOf < 1 { add("multiple_of must be positive") }
        if l.minWidth < 1 || l.minWidth > l.maxWidth { add("min_width must be between 1 and max_width") }
        if l.minHeight < 1 || l.minHeight > l.maxHeight { add("min_height must be between 1 and max_height") }
        if l.maxWidth > 4096 || l.maxHeight > 4096 { add("sizes above 4096 are not supported") }
        if l.maxSteps < 1 || l.maxSteps > 500 { add("max_steps must be between 1 and 500") }
        if l.maxBatch < 1 || l.maxBatch > 16 { add("max_batch must be between 1 and 16") }
        if l.minCfgScale > l.maxCfgScale { add("min_cfg_scale must not exceed max_cfg_scale") }
        if l.samplers.isEmpty { add("samplers must not be empty") }
        let d = l.defaults
        // Comparisons, not ranges: a range with min > max would trap, and that case is reported above.
        if d.width < l.minWidth || d.width > l.maxWidth || d.width % max(1, l.multipleOf) != 0 { add("defaults.width is outside the limits") }
        if d.height < l.minHeight || d.height > l.maxHeight || d.height % max(1, l.multipleOf) != 0 { add("defaults.height is outside the limits") }
        if d.steps < 1 || d.steps > l.maxSteps { add("defaults.steps is outside the limits") }
        if d.cfgScale < l.minCfgScale || d.cfgScale > l.maxCfgScale { add("defaults.cfg_scale is outside the limits") }
        if !l.samplers.contains(d.sampler) { add("defaults.sampler is not among samplers") }
        if pricing.base < 0 || pricing.perMegapixelStepMilli < 0 || pricing.perLora < 0 || pricing.controlnet < 0 {
            add("prices must not be negative")
        }
        if family == .esrgan {
            problems(ofUpscaler: add)
            return found
        }
        if engine == .sdcpp, files.isEmpty { add("an sdcpp model needs files.checkpoint or files.diffusion_model") }
        if engine == .preview, family != .preview { add("the preview engine serves only the preview family") }
        if Set(loras.map(\.name)).count != loras.count { add("duplicate LoRA names") }
        if Set(controlnets.map(\.name)).count != controlnets.count { add("duplicate ControlNet names") }
        if !capabilities.contains(.txt2img) { add("capabilities must include txt2img") }
        if engine == .preview, capabilities != [.txt2img] { add("the preview engine takes no init images") }
        if capabilities.contains(.inpaint), !capabilities.contains(.img2img) { add("inpaint needs img2img") }
        if capabilities.contains(.upscale) { add("only esrgan models upscale") }
        if upscaleFactor != nil { add("upscale_factor is for esrgan models") }
        return found
    }

    /// An ESRGAN entry: the sd.cpp engine, its weights in `files.upscaler`, a factor of 2 or 4, and
    /// only the `upscale` capability (its limits bound the output size).
    private func problems(ofUpscaler add: (String) -> Void) {
        if engine != .sdcpp { add("an esrgan model runs on the sdcpp engine") }
        if files.upscaler == nil { add("an esrgan model needs files.upscaler") }
        if capabilities != [.upscale] { add("an esrgan model has exactly the capability upscale") }
        if ![2, 4].contains(upscaleFactor ?? 0) { add("upscale_factor must be 2 or 4") }
        if loras.count + controlnets.count > 0 { add("an esrgan model takes no LoRA or ControlNet") }
    }
}
