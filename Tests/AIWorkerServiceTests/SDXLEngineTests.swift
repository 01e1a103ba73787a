import Foundation
import Logging
import Synchronization
import TestSupport
import Testing
@testable import AIWorkerService

/// SDXL on the real library: the tiny random SDXL-family model `make test-model` writes (the Vega
/// layout: CLIP ViT-L + OpenCLIP bigG, a UNet with transformer depths 1/1/2 and no middle attention,
/// the SDXL KL-VAE with its encoder; 1.65 G parameters, 3.1 GB once loaded, a 3 MB file) at 64x64,
/// 1 step, cfg 1 (no second, unconditioned pass: the two text encoders cost most of each image).
///
/// The budget holds one SDXL context: the image-to-image test needs the one with the VAE encoder, and
/// loading it evicts the text-to-image one, so the process never holds two (about 3.3 GB at most).
@Suite(.serialized, .timeLimit(.minutes(15))) struct SDXLEngineTests {
    static let engine = RealEngine.load(label: "sdxl-test")

    func engine() throws -> StableDiffusionEngine { try RealEngine.require(Self.engine) }

    static let modelID = "tiny-sdxl"

    static func job(seed: Int64 = 42, loras: [EngineJob.LoRA] = []) -> EngineJob {
        EngineJob(
            model: modelID, family: "sdxl", files: EngineModelFiles(checkpoint: EngineTestModel.sdxlModelPath),
            prompt: "a lighthouse at dusk", negativePrompt: "", width: 64, height: 64, steps: 1, cfgScale: 1, sampler: "euler",
            scheduler: "discrete", seed: seed, batchSize: 1, loras: loras, controlNet: nil, cancellation: EngineCancellation()
        )
    }

    /// The process's resident set in MB (VmRSS), or -1 where /proc is missing.
    static func residentMB() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kb = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) })
        else { return -1 }
        return kb / 1024
    }

    @Test func textToImageIsSDXLVegaOfTheAskedSizeTheSameSeedGivesTheSameBytesAndTheLoRAChangesIt() async throws {
        let engine = try engine()
        let clock = ContinuousClock()

        // Load first, on its own, to see what the library made of the file.
        let key = ContextKey(files: EngineModelFiles(checkpoint: EngineTestModel.sdxlModelPath), controlNet: nil)
        let loadStart = clock.now
        let context = try await engine.cache.acquire(key, model: Self.modelID)
        let loadTime = clock.now - loadStart
        await engine.cache.release(key)
        #expect(context.detectedVersion == "SDXL (Vega)", "the library's own version detection: \(context.detectedVersion)")
        // CLIP-L 123 M + bigG 695 M + UNet 745 M + KL-VAE decoder 50 M parameters, f16 (text_projection f32).
        #expect((2900 << 20...3400 << 20).contains(context.paramsBytes), "params: \(context.paramsBytes >> 20) MB")

        let steps = Mutex<[EngineProgress]>([])
        let imageStart = clock.now
        let first = try await engine.generate(Self.job()) { progress in steps.withLock { $0.append(progress) } }
        let imageTime = clock.now - imageStart
        #expect(first.count == 1 && first[0].width == 64 && first[0].height == 64 && first[0].rgb.count == 64 * 64 * 3)
        #expect(Set(first[0].rgb).count > 16, "a real image, not a constant fill")
        #expect(steps.withLock { $0 } == [EngineProgress(step: 1, totalSteps: 1, imageIndex: 0, imageCount: 1)])
        let png = try PNGReader(try PNGEncoder.encode(rgb: first[0].rgb, width: 64, height: 64))
        #expect(png.width == 64 && png.height == 64)

        let again = try await engine.generate(Self.job()) { _ in }
        #expect(again[0].rgb == first[0].rgb, "same seed, same model, same parameters: identical pixels")

        let lora = EngineJob.LoRA(name: "tiny-sdxl-lora", path: EngineTestModel.sdxlLoRAPath, weight: 1)
        let withLoRA = try await engine.generate(Self.job(loras: [lora])) { _ in }
        #expect(withLoRA[0].rgb != first[0].rgb, "the SDXL LoRA (UNet attention and feed-forward, CLIP-L layer 10) changes the image")
        #expect(await engine.warmModels(among: [Self.modelID]) == [Self.modelID])
        print("sdxl: load \(loadTime), first image (64x64, 1 step, cfg 1) \(imageTime), params \(context.paramsBytes >> 20) MB, RSS \(Self.residentMB()) MB")
    }

    @Test func imageToImageStrengthZeroGivesTheInitImageAndStrengthOneAnother() async throws {
        let engine = try engine()
        let initPNG = try PNGEncoder.encode(rgb: ImageToImageTests.initRGB, width: 64, height: 64)
        var job = Self.job()
        job.initImage = initPNG
        job.strength = 0
        let zero = try await engine.generate(job) { _ in }
        #expect(zero[0].rgb == ImageToImageTests.initRGB, "strength 0: the init image, unchanged")

        job.strength = 1
        let clock = ContinuousClock()
        let start = clock.now
        let full = try await engine.generate(job) { _ in }
        let time = clock.now - start
        #expect(full[0].width == 64 && full[0].height == 64 && full[0].rgb.count == 64 * 64 * 3)
        #expect(full[0].rgb != ImageToImageTests.initRGB, "strength 1 gives another image")
        #expect(Set(full[0].rgb).count > 16, "a real image, not a constant fill")
        // Both contexts do not fit the 4 GiB budget together: the encoder one replaced the other.
        let used = await engine.cache.usedBytes
        #expect(used <= 4 << 30, "one SDXL context at a time: \(used >> 20) MB")
        print("sdxl: image-to-image with the VAE encoder (load included) \(time), RSS \(Self.residentMB()) MB")
        await engine.shutdown()
    }
}
