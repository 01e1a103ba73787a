import Core
import Foundation

extension RequestValidator {
    /// An upscale request: an init image (`init_image` or `init_image_id`) and nothing that steers
    /// generation. `inputSize` is the size of the `init_image_id` image as gallery reported it (nil
    /// when the request sends the PNG itself). The output, input × the model's factor, must fit the
    /// model's `max_width` × `max_height`; the input must be at least `min_width` × `min_height`.
    /// Returns the errors, one per field, and the output size when the input is known.
    static func upscaleErrors(
        for request: JobRequest, model: ModelEntry, inputSize: (width: Int, height: Int)?
    ) -> (errors: [String: String], output: (width: Int, height: Int)?) {
        var errors: [String: String] = [:]
        let notTaken = "is not taken by an upscaler"
        if !request.prompt.isEmpty { errors["prompt"] = notTaken }
        if request.negativePrompt != nil { errors["negative_prompt"] = notTaken }
        if request.width != 0 { errors["width"] = "is not taken by an upscaler: the output is the input's size × \(model.upscaleFactor ?? 1)" }
        if request.height != 0 { errors["height"] = "is not taken by an upscaler: the output is the input's size × \(model.upscaleFactor ?? 1)" }
        if request.steps != 0 { errors["steps"] = notTaken }
        if request.cfgScale != 0 { errors["cfg_scale"] = notTaken }
        if request.seed != nil { errors["seed"] = notTaken }
        if request.sampler != nil { errors["sampler"] = notTaken }
        if request.scheduler != nil { errors["scheduler"] = notTaken }
        if request.batchSize != 1 { errors["batch_size"] = "must be 1 for an upscaler" }
        if !request.loras.isEmpty { errors["loras"] = notTaken }
        if request.controlnet != nil { errors["controlnet"] = notTaken }
        if request.strength != nil { errors["strength"] = notTaken }
        if request.mask != nil { errors["mask"] = notTaken }
        if request.style != nil { errors["style"] = notTaken }

        var input = inputSize
        switch (request.initImage, request.initImageID) {
        case (nil, nil):
            errors["init_image"] = "an upscaler needs the image to upscale: init_image or init_image_id"
        case (.some, .some):
            errors["init_image"] = "give init_image or init_image_id, not both"
        case (.some(let image), nil):
            if let header = PNGHeader(base64: image) {
                input = (header.width, header.height)
            } else {
                errors["init_image"] = "must be a base64 PNG"
            }
        case (nil, .some(let id)):
            if UUID(uuidString: id) == nil { errors["init_image_id"] = "must be an image id" }
        }
        guard let input, let factor = model.upscaleFactor else { return (errors, nil) }
        let field = request.initImage != nil ? "init_image" : "init_image_id"
        let l = model.limits
        let maxInput = (width: l.maxWidth / factor, height: l.maxHeight / factor)
        if input.width > maxInput.width || input.height > maxInput.height {
            errors[field] = "must be at most \(maxInput.width)x\(maxInput.height) for \(model.id) (its output is at most \(l.maxWidth)x\(l.maxHeight)), not \(input.width)x\(input.height)"
        } else if input.width < l.minWidth || input.height < l.minHeight {
            errors[field] = "must be at least \(l.minWidth)x\(l.minHeight), not \(input.width)x\(input.height)"
        }
        return (errors, (input.width * factor, input.height * factor))
    }
}
