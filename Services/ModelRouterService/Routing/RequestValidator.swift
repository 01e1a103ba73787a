import Foundation
import Core

/// Checks a request against a model's limits; one message per offending field, named as in the request JSON.
enum RequestValidator {
    static let maxPromptLength = 2000
    static let loraWeights = -4.0...4.0
    static let controlNetStrengths = 0.0...2.0

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
        return errors
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
