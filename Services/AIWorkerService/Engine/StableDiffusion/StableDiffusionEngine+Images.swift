import Foundation

extension StableDiffusionEngine {
    /// An init image at the job's size, with its mask (255 repaint, 0 keep) for inpainting.
    struct InitImage: Sendable {
        var rgb: [UInt8]
        var mask: [UInt8]?
    }

    /// The job's init image (and mask) decoded and scaled to the job's size; nil for text-to-image.
    /// A mask must have the init image's size before scaling (it marks that image's pixels).
    func initImage(_ job: EngineJob) throws(EngineError) -> InitImage? {
        guard let png = job.initImage else { return nil }
        let image: PNGDecoder.Image
        do {
            image = try PNGDecoder.decode(png)
        } catch {
            throw EngineError(.invalidRequest, "The init image cannot be read: \(error).")
        }
        let rgb = PNGDecoder.resized(image, width: job.width, height: job.height).rgb
        guard let maskPNG = job.mask else { return InitImage(rgb: rgb, mask: nil) }
        let mask: PNGDecoder.Image
        do {
            mask = try PNGDecoder.decode(maskPNG)
        } catch {
            throw EngineError(.invalidRequest, "The mask cannot be read: \(error).")
        }
        guard mask.width == image.width, mask.height == image.height else {
            throw EngineError(.invalidRequest, "The mask is \(mask.width)x\(mask.height), the init image \(image.width)x\(image.height): they must match.")
        }
        let scaled = PNGDecoder.resized(mask, width: job.width, height: job.height).rgb
        var gray = [UInt8](repeating: 0, count: job.width * job.height)
        for index in gray.indices {
            let sum = Int(scaled[index * 3]) + Int(scaled[index * 3 + 1]) + Int(scaled[index * 3 + 2])
            gray[index] = sum >= 3 * 128 ? 255 : 0
        }
        return InitImage(rgb: rgb, mask: gray)
    }

    /// The generated pixels where `mask` is set, the init image's elsewhere: inpainting leaves what
    /// the mask keeps exactly as it was (the library alone would pass it through the VAE and back).
    static func composite(_ generated: [UInt8], over initial: [UInt8], mask: [UInt8]) -> [UInt8] {
        var out = initial
        for pixel in mask.indices where mask[pixel] != 0 {
            out[pixel * 3] = generated[pixel * 3]
            out[pixel * 3 + 1] = generated[pixel * 3 + 1]
            out[pixel * 3 + 2] = generated[pixel * 3 + 2]
        }
        return out
    }

    /// Upscales the job's init image with its ESRGAN model: one image, the model's factor larger.
    func upscale(_ job: EngineJob) async throws(EngineError) -> [EngineImage] {
        guard let path = job.upscaler, let png = job.initImage else {
            throw EngineError(.invalidRequest, "Upscaling needs an image.")
        }
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw EngineError(.modelNotFound, "The upscaler file of model \(job.model) is missing or unreadable.")
        }
        let image: PNGDecoder.Image
        do {
            image = try PNGDecoder.decode(png)
        } catch {
            throw EngineError(.invalidRequest, "The image cannot be read: \(error).")
        }
        if job.cancellation.isCanceled || Task.isCancelled { throw EngineError(.canceled, "The job was canceled.") }
        let upscaler = try await upscalers.upscaler(path: path)
        let (rgb, width, height) = try await upscaler.upscale(image.rgb, width: image.width, height: image.height)
        return [EngineImage(width: width, height: height, rgb: rgb, seed: job.seed)]
    }
}
