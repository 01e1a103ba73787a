import Core
import Foundation
import ServiceKit

extension JobProcessor {
    /// Encodes each image as PNG (parameters in `tEXt`) and stores it under `<user id>/<image id>.png`,
    /// with its thumbnail (`Thumbnail`, longest side 256 px) under `<user id>/<image id>.thumb.png`.
    func store(_ images: [EngineImage], engine: any ImageEngine, engineJob: EngineJob, job: JobQueued) async throws -> [ProducedImage] {
        var produced: [ProducedImage] = []
        for (index, image) in images.enumerated() {
            let imageID = ImageIdentity.imageID(job: job.jobID, index: index)
            let key = "\(job.userID)/\(imageID).png"
            let parameters = GenerationParameters(
                prompt: engineJob.prompt, negativePrompt: engineJob.negativePrompt, seed: image.seed, steps: engineJob.steps,
                cfgScale: engineJob.cfgScale, sampler: engineJob.sampler, model: engineJob.model, width: image.width,
                height: image.height, engine: engine.id, loras: job.request.loras
            )
            let text = [(keyword: "parameters", value: try parameters.asciiJSON()), (keyword: "engine", value: engine.id)]
            let (png, thumbnail) = try await encoder.run { () throws(PNGEncoder.Failure) -> ([UInt8], [UInt8]) in
                let small = Thumbnail.downscale(rgb: image.rgb, width: image.width, height: image.height)
                return (
                    try PNGEncoder.encode(rgb: image.rgb, width: image.width, height: image.height, text: text),
                    try PNGEncoder.encode(rgb: small.rgb, width: small.width, height: small.height)
                )
            }
            // The thumbnail first: once the full image is there the job can succeed, and both must exist by then.
            let thumbnailKey = "\(job.userID)/\(imageID).thumb.png"
            try await storage.write(thumbnailKey, bytes: thumbnail)
            try await storage.write(key, bytes: png)
            produced.append(ProducedImage(
                imageID: imageID, storageKey: key, width: image.width, height: image.height, seed: image.seed,
                contentType: "image/png", bytes: png.count, engine: Self.outputLabel(engine.id),
                thumbnailKey: thumbnailKey
            ))
        }
        return produced
    }

    /// `ProducedImage.engine`: `preview` for procedural stand-ins (never shown as AI output), else `stable-diffusion`.
    static func outputLabel(_ engineID: String) -> String {
        engineID == "preview" ? "preview" : "stable-diffusion"
    }
}
