import Foundation
import Logging

/// The real engine: stable-diffusion.cpp (through `StableDiffusionLibrary`), serving catalog entries
/// with `engine: sdcpp`.
///
/// - Contexts are cached by `ContextCache` within a memory budget; each runs on its own thread.
/// - A batch of N is N calls with seeds `seed … seed+N-1` (bit-identical to the library's own batch).
///   Cancellation is checked before each image and, through the shim, after every sampling step
///   (the library has no abort call; the shim stops the sampler from its progress callback).
/// - Everything the library would silently ignore or abort on is checked first: missing model, LoRA
///   or ControlNet files, sizes the model would round, unknown samplers, ControlNet on families it
///   does not fit.
struct StableDiffusionEngine: ImageEngine {
    let id = "sdcpp"
    let library: StableDiffusionLibrary
    let cache: ContextCache
    let upscalers: UpscalerCache
    let threads: Int

    init(library: StableDiffusionLibrary, memoryBudgetBytes: UInt64, threads: Int, logger: Logger) {
        self.library = library
        self.cache = ContextCache(library: library, budgetBytes: memoryBudgetBytes, threads: threads, logger: logger)
        self.upscalers = UpscalerCache(library: library, threads: threads)
        self.threads = threads
    }

    func shutdown() async {
        await cache.closeAll()
        await upscalers.closeAll()
    }

    func warmModels(among models: [String]) async -> [String] {
        let loaded = await cache.loadedModels()
        return models.filter(loaded.contains)
    }

    func generate(_ job: EngineJob, progress: @escaping @Sendable (EngineProgress) -> Void) async throws(EngineError) -> [EngineImage] {
        if job.upscaler != nil { return try await upscale(job) }
        try validate(job)
        let control = try controlImage(job)
        let initial = try initImage(job)
        try checkCanceled(job)
        if let initial, job.strength <= 0 {
            // Strength 0 asks for no change: the init image itself (the library would still send it
            // through the VAE and back, which only loses detail).
            return (0..<job.batchSize).map { EngineImage(width: job.width, height: job.height, rgb: initial.rgb, seed: job.seed &+ Int64($0)) }
        }
        let key = ContextKey(files: job.files, controlNet: job.controlNet?.path, encoder: initial != nil)
        let context = try await cache.acquire(key, model: job.model)
        do {
            var images: [EngineImage] = []
            for index in 0..<job.batchSize {
                try checkCanceled(job)
                let seed = job.seed &+ Int64(index)
                var rgb = try await context.generateImage(job, seed: seed, controlRGB: control, initRGB: initial?.rgb, maskGray: initial?.mask) { step, steps in
                    progress(EngineProgress(step: step, totalSteps: steps, imageIndex: index, imageCount: job.batchSize))
                }
                if let initial, let mask = initial.mask { rgb = Self.composite(rgb, over: initial.rgb, mask: mask) }
                images.append(EngineImage(width: job.width, height: job.height, rgb: rgb, seed: seed))
            }
            await cache.release(key)
            return images
        } catch {
            await cache.release(key)
            throw error
        }
    }

    private func checkCanceled(_ job: EngineJob) throws(EngineError) {
        if job.cancellation.isCanceled || Task.isCancelled {
            throw EngineError(.canceled, "The job was canceled.")
        }
    }

    /// The spatial factor sizes must be a multiple of (the library would round otherwise).
    static func sizeMultiple(family: String) -> Int { family == "flux" ? 16 : 8 }

    func validate(_ job: EngineJob) throws(EngineError) {
        guard !job.files.all.isEmpty else {
            throw EngineError(.invalidModel, "Model \(job.model) names no weight files.")
        }
        for path in job.files.all + job.loras.map(\.path) + [job.controlNet?.path].compactMap({ $0 }) {
            guard FileManager.default.isReadableFile(atPath: path) else {
                throw EngineError(.modelNotFound, "The file \((path as NSString).lastPathComponent) of model \(job.model) is missing or unreadable.")
            }
        }
        let multiple = Self.sizeMultiple(family: job.family)
        guard (64...4096).contains(job.width), (64...4096).contains(job.height), job.width % multiple == 0, job.height % multiple == 0 else {
            throw EngineError(.invalidRequest, "Width and height must be 64-4096 and multiples of \(multiple) for \(job.family).")
        }
        guard (1...1000).contains(job.steps) else { throw EngineError(.invalidRequest, "Steps must be 1-1000.") }
        guard (1...16).contains(job.batchSize) else { throw EngineError(.invalidRequest, "Batch size must be 1-16.") }
        guard job.cfgScale.isFinite, job.cfgScale >= 0 else { throw EngineError(.invalidRequest, "cfg_scale must be a finite number >= 0.") }
        if let sampler = job.sampler, !library.knowsSampler(sampler) {
            throw EngineError(.invalidRequest, "Unknown sampler \(sampler.prefix(40)).")
        }
        if let scheduler = job.scheduler, !library.knowsScheduler(scheduler) {
            throw EngineError(.invalidRequest, "Unknown scheduler \(scheduler.prefix(40)).")
        }
        for lora in job.loras where !lora.weight.isFinite {
            throw EngineError(.invalidRequest, "LoRA \(lora.name) has no finite weight.")
        }
        if job.initImage == nil, job.mask != nil {
            throw EngineError(.invalidRequest, "A mask needs an init image.")
        }
        guard job.strength.isFinite, (0...1).contains(job.strength) else { throw EngineError(.invalidRequest, "strength must be between 0 and 1.") }
        if job.controlNet != nil, job.family != "sd15" {
            // The library aborts the whole process on a ControlNet that does not fit the UNet.
            throw EngineError(.invalidRequest, "ControlNet is supported for SD 1.x models only.")
        }
    }

    /// The control image as RGB at the job's size, or nil without ControlNet.
    private func controlImage(_ job: EngineJob) throws(EngineError) -> [UInt8]? {
        guard let controlNet = job.controlNet else { return nil }
        do {
            let image = try PNGDecoder.decode(controlNet.image)
            return PNGDecoder.resized(image, width: job.width, height: job.height).rgb
        } catch {
            throw EngineError(.invalidRequest, "The control image cannot be read: \(error).")
        }
    }
}
