import ArgumentParser
import Core
import Foundation
import Logging
import PingvasCrypto

/// `ai-worker generate`: one generation for operators, through the same engine code as queued jobs.
///
/// With `--batch N` the files are `FILE-1.png` … `FILE-N.png`. `--serve` (for `make bench-engine`)
/// loads once, then generates once per line read on stdin and prints `{"seconds":…,"sha256":…}` per
/// generation (the hash of the RGB pixels of the first image), without writing files. Exit status:
/// 0 done, 1 the generation failed (`failed (<code>): <message>` on stderr), 64 usage errors.
struct GenerateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ai-worker generate",
        abstract: "Generate images with stable-diffusion.cpp, through the worker's engine code."
    )

    @Option(help: "The checkpoint (SD 1.x, SDXL).") var modelFile: String?
    @Option(help: "Flux: the diffusion model (instead of --model-file).") var diffusionModel: String?
    @Option(help: "Flux/SDXL text encoder.") var clipL: String?
    @Option(help: "SDXL text encoder.") var clipG: String?
    @Option(help: "Flux text encoder.") var t5xxl: String?
    @Option(help: "A separate VAE.") var vae: String?
    @Option(help: "sd15, sdxl or flux.") var family = "sd15"
    @Option(help: ArgumentHelp("A LoRA and its weight, e.g. lora.safetensors:0.8; repeatable.", valueName: "path:weight"))
    var lora: [LoRASpec] = []
    @Option var prompt: String
    @Option var negativePrompt = ""
    @Option var width: Int
    @Option var height: Int
    @Option var steps: Int
    @Option var seed: Int64
    @Option(help: "Images; image i uses seed + i.") var batch = 1
    @Option var cfgScale = 7.0
    @Option var sampler: String?
    @Option var scheduler: String?
    @Option(help: "A ControlNet model (SD 1.x), with --control-image.") var controlNet: String?
    @Option(help: "The control PNG.") var controlImage: String?
    @Option var controlStrength = 0.9
    @Option(help: "CPU threads (0: the library's choice).") var threads = 0
    @Option(help: "The engine shim (default: PINGVAS_SD_LIBRARY, then the usual places).") var library: String?
    @Option(help: "The PNG to write.") var out: String?
    @Flag(help: "Generate once per line on stdin and print timings (make bench-engine).") var serve = false

    /// `PATH:WEIGHT`.
    struct LoRASpec: ExpressibleByArgument {
        var path: String
        var weight: Double

        init?(argument: String) {
            guard let colon = argument.lastIndex(of: ":"), let weight = Double(argument[argument.index(after: colon)...]), weight.isFinite
            else { return nil }
            path = String(argument[..<colon])
            self.weight = weight
        }
    }

    var files: EngineModelFiles {
        EngineModelFiles(checkpoint: modelFile, diffusionModel: diffusionModel, clipL: clipL, clipG: clipG, t5xxl: t5xxl, vae: vae)
    }

    func validate() throws {
        if files.all.isEmpty { throw ValidationError("--model-file (or --diffusion-model for Flux) is required") }
        if out == nil, !serve { throw ValidationError("--out is required") }
        if (controlNet == nil) != (controlImage == nil) { throw ValidationError("--control-net and --control-image go together") }
        if !cfgScale.isFinite || !controlStrength.isFinite { throw ValidationError("--cfg-scale and --control-strength must be finite") }
    }

    func run() async throws {
        do {
            try await generate()
        } catch let error as EngineError {
            FileHandle.standardError.write(Data("ai-worker generate: failed (\(error.code.rawValue)): \(error.message)\n".utf8))
            throw ExitCode(1)
        } catch {
            FileHandle.standardError.write(Data("ai-worker generate: failed: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }

    func job() throws -> EngineJob {
        var control: EngineJob.ControlNet?
        if let controlNet, let controlImage {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: controlImage))
            control = EngineJob.ControlNet(name: "cli", path: controlNet, image: Array(bytes), strength: controlStrength)
        }
        return EngineJob(
            model: (files.all.first.map { ($0 as NSString).lastPathComponent }) ?? "model", family: family, files: files,
            prompt: prompt, negativePrompt: negativePrompt, width: width, height: height, steps: steps,
            cfgScale: cfgScale, sampler: sampler, scheduler: scheduler, seed: seed, batchSize: batch,
            loras: lora.map { EngineJob.LoRA(name: ($0.path as NSString).lastPathComponent, path: $0.path, weight: $0.weight) },
            controlNet: control, cancellation: EngineCancellation()
        )
    }

    func generate() async throws {
        let path = StableDiffusionLibrary.resolvePath(library ?? ProcessInfo.processInfo.environment["PINGVAS_SD_LIBRARY"])
        let library = try StableDiffusionLibrary.load(path: path).get()
        var logger = Logger(label: "ai-worker-cli")
        logger.logLevel = .warning
        StableDiffusionLibrary.setLogger(logger)
        let engine = StableDiffusionEngine(library: library, memoryBudgetBytes: .max, threads: threads, logger: logger)
        let job = try job()
        if serve {
            try await serveLoop(engine, job)
            return
        }
        let started = ContinuousClock.now
        let images = try await engine.generate(job) { progress in
            FileHandle.standardError.write(Data("step \(progress.step)/\(progress.totalSteps) of image \(progress.imageIndex + 1)/\(progress.imageCount)\n".utf8))
        }
        let elapsed = ContinuousClock.now - started
        for (index, image) in images.enumerated() {
            let file = Self.outputPath(out ?? "out.png", index: index, count: images.count)
            let parameters = GenerationParameters(
                prompt: job.prompt, negativePrompt: job.negativePrompt, seed: image.seed, steps: job.steps, cfgScale: job.cfgScale,
                sampler: job.sampler, model: job.model, width: image.width, height: image.height, engine: engine.id,
                loras: job.loras.map { JobRequest.LoRA(name: $0.name, weight: $0.weight) }
            )
            let png = try PNGEncoder.encode(
                rgb: image.rgb, width: image.width, height: image.height,
                text: [(keyword: "parameters", value: try parameters.asciiJSON()), (keyword: "engine", value: engine.id)]
            )
            try Data(png).write(to: URL(fileURLWithPath: file))
            print("wrote \(file) (\(image.width)x\(image.height), seed \(image.seed))")
        }
        print("generated \(images.count) image(s) in \(elapsed)")
    }

    /// `FILE.png` for one image; `FILE-1.png` … for a batch.
    static func outputPath(_ out: String, index: Int, count: Int) -> String {
        guard count > 1 else { return out }
        let url = URL(fileURLWithPath: out)
        let ext = url.pathExtension.isEmpty ? "png" : url.pathExtension
        return url.deletingPathExtension().path + "-\(index + 1).\(ext)"
    }

    private func serveLoop(_ engine: StableDiffusionEngine, _ job: EngineJob) async throws {
        while readLine() != nil {
            let started = ContinuousClock.now
            let images = try await engine.generate(job) { _ in }
            let elapsed = ContinuousClock.now - started
            let seconds = elapsed.inSeconds
            let hash = SHA256Digest.hex(images[0].rgb)
            FileHandle.standardOutput.write(Data("{\"seconds\":\(seconds),\"sha256\":\"\(hash)\"}\n".utf8))
        }
    }
}
