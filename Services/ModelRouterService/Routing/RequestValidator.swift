import Foundation
import Core

/// Checks a request against a model's limits; one message per offending field, named as in the request JSON.
enum RequestValidator {
    static let maxPromptLength = 2000
    static let loraWeights = -4.0...4.0
    static let controlNetStrengths = 0.0...2.0
    static let strengths = 0.0...1.0
    /// Init images and masks larger than this (either side) are refused; they are scaled to the
    /// output size anyway.
    static let maxInitImageSide = 4096

    static func errors(for request: JobRequest, model: ModelEntry) -> [String: String] {
        var errors: [String: String] = [:]
        let l = model.limits
        let promptText = request.prompt.trimmingCharacters(in: .whitespacesAndNewlines)
        if promptText.isEmpty {
            errors["prompt"] = "must not be empty"
        } else if request.prompt.count > maxPromptLength {
            errors["prompt"] = "must be at most \(maxPromptLength) characters"
        }
        if let negative = request.negativePrompt, negative.count > maxPromptLength {
            errors["negative_prompt"] = "must be at most \(maxPromptLength) characters"
        }
        if let message = size(request.width, min: l.minWidth, max: l.maxWidth, multipleOf: l.multipleOf) { errors["width"] = message }
        if let message = size(request.height, min: l.minHeight, max: l.maxHeight, multipleOf: l.multipleOf) { errors["height"] = message }
        if !(1...l.maxSteps).contains(request.steps) { errors["steps"] = "must be between 1 and \(l.maxSteps)" }
        if !(1...l.maxBatch).contains(request.batchSize) { errors["batch_size"] = "must be between 1 and \(l.maxBatch)" }
        if !request.cfgScale.isFinite || !(l.minCfgScale...l.maxCfgScale).contains(request.cfgScale) {
            errors["cfg_scale"] = l.minCfgScale == l.maxCfgScale
                ? "must be \(format(l.minCfgScale)) for this model"
                : "must be between \(format(l.minCfgScale)) and \(format(l.maxCfgScale))"
        }
        if let seed = request.seed, !(0...Int64(UInt32.max)).contains(seed) {
            errors["seed"] = "must be between 0 and \(UInt32.max)"
        }
        if let sampler = request.sampler, !l.samplers.contains(sampler) {
            errors["sampler"] = "must be one of \(l.samplers.joined(separator: ", "))"
        }
        if let message = loras(request.loras, model: model) { errors["loras"] = message }
        if let controlnet = request.controlnet {
            if model.controlnets.isEmpty {
                errors["controlnet"] = "is not available for \(model.family.rawValue) models"
            } else if !model.controlnets.contains(where: { $0.name == controlnet.model }) {
                errors["controlnet"] = "unknown model \(controlnet.model); one of \(model.controlnets.map(\.name).joined(separator: ", "))"
            } else if !controlNetStrengths.contains(controlnet.strength) {
                errors["controlnet"] = "strength must be between 0 and 2"
            } else if controlnet.image.isEmpty {
                errors["controlnet"] = "needs a control image"
            }
        }
        initImage(request, model: model, into: &errors)
        return errors
    }

    /// `init_image` / `init_image_id`, `strength` and `mask`: allowed by the model's capabilities,
    /// PNGs of a sane size, the mask the init image's size.
    private static func initImage(_ request: JobRequest, model: ModelEntry, into errors: inout [String: String]) {
        let family = model.family.rawValue
        if request.initImage != nil, request.initImageID != nil {
            errors["init_image"] = "give init_image or init_image_id, not both"
        }
        if !request.hasInitImage {
            if request.strength != nil { errors["strength"] = "needs an init image (init_image or init_image_id)" }
            if request.mask != nil { errors["mask"] = "needs an init image (init_image or init_image_id)" }
            return
        }
        guard model.can(.img2img) else {
            errors[request.initImage != nil ? "init_image" : "init_image_id"] = "image-to-image is not available for \(family) models"
            return
        }
        if let strength = request.strength, !strength.isFinite || !strengths.contains(strength) {
            errors["strength"] = "must be between 0 and 1"
        }
        if let id = request.initImageID, UUID(uuidString: id) == nil {
            errors["init_image_id"] = "must be an image id"
        }
        var initSize: PNGHeader?
        if let image = request.initImage {
            initSize = PNGHeader(base64: image)
            if let size = initSize {
                if size.width > maxInitImageSide || size.height > maxInitImageSide {
                    errors["init_image"] = "must be at most \(maxInitImageSide)x\(maxInitImageSide)"
                }
            } else {
                errors["init_image"] = "must be a base64 PNG"
            }
        }
        guard let mask = request.mask else { return }
        guard model.can(.inpaint) else {
            errors["mask"] = "inpainting is not available for \(family) models"
            return
        }
        guard let maskSize = PNGHeader(base64: mask) else {
            errors["mask"] = "must be a base64 PNG"
            return
        }
        if let initSize, initSize != maskSize {
            errors["mask"] = "must have the init image's size (\(initSize.width)x\(initSize.height), not \(maskSize.width)x\(maskSize.height))"
        } else if maskSize.width > maxInitImageSide || maskSize.height > maxInitImageSide {
            errors["mask"] = "must be at most \(maxInitImageSide)x\(maxInitImageSide)"
        }
    }

    private static func size(_ value: Int, min: Int, max: Int, multipleOf: Int) -> String? {
        if value < min || value > max { return "must be between \(min) and \(max)" }
        if value % multipleOf != 0 { return "must be a multiple of \(multipleOf)" }
        return nil
    }

    private static func loras(_ loras: [JobRequest.LoRA], model: ModelEntry) -> String? {
        guard !loras.isEmpty else { return nil }
        if model.loras.isEmpty { return "are not available for this model" }
        let known = Set(model.loras.map(\.name))
        let unknown = loras.map(\.name).filter { !known.contains($0) }
        if !unknown.isEmpty { return "unknown LoRA \(unknown.joined(separator: ", ")); available: \(known.sorted().joined(separator: ", "))" }
        if Set(loras.map(\.name)).count != loras.count { return "each LoRA may be given once" }
        if loras.count > 4 { return "at most 4 LoRAs" }
        if let bad = loras.first(where: { !$0.weight.isFinite || !loraWeights.contains($0.weight) }) {
            return "weight of \(bad.name) must be between -4 and 4"
        }
        return nil
    }

    private static func format(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }
}
