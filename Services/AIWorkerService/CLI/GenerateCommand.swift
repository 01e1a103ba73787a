import Core
import Foundation
import Logging
import PingvasCrypto

/// `ai-worker generate`: one generation for operators, through the same engine code as queued jobs.
///
///     ai-worker generate --model-file PATH [--lora PATH:WEIGHT ...] --prompt TEXT [--negative-prompt TEXT]
///       --width W --height H --steps N --seed S [--batch N] [--cfg-scale X] [--sampler NAME]
///       [--scheduler NAME] [--family sd15|sdxl|flux] [--diffusion-model PATH --clip-l PATH --t5xxl PATH]
///       [--vae PATH] [--control-net PATH --control-image PNG [--control-strength X]] [--threads N]
///       [--library PATH] --out FILE.png
///
/// With `--batch N` the files are `FILE-1.png` … `FILE-N.png`. `--serve` (for `make bench-engine`)
/// loads once, then generates once per line read on stdin and prints `{"seconds":…,"sha256":…}` per
/// generation (the hash of the RGB pixels of the first image), without writing files.
struct GenerateCommand {
    struct UsageError: Error, CustomStringConvertible {
        var description: String
    }

    var files = EngineModelFiles()
    var family = "sd15"
    var loras: [EngineJob.LoRA] = []
    var prompt: String?
    var negativePrompt = ""
    var width: Int?
    var height: Int?
    var steps: Int?
    var seed: Int64?
    var batch = 1
    var cfgScale = 7.0
    var sampler: String?
    var scheduler: String?
    var controlNet: String?
    var controlImage: String?
    var controlStrength = 0.9
    var threads = 0
    var library: String?
    var out: String?
    var serve = false

    static let usage = """
        usage: ai-worker generate --model-file PATH [--lora PATH:WEIGHT] --prompt TEXT [--negative-prompt TEXT]
                                  --width W --height H --steps N --seed S [--batch N] --out FILE.png
               more: --cfg-scale X --sampler NAME --scheduler NAME --family sd15|sdxl|flux --vae PATH
                     --diffusion-model PATH --clip-l PATH --clip-g PATH --t5xxl PATH (Flux: instead of --model-file)
                     --control-net PATH --control-image PNG --control-strength X --threads N --library PATH
        """

    /// Runs the command; returns the process exit status (0 ok, 1 generation failed, 64 usage).
    static func main(_ arguments: [String]) async -> Int32 {
        let command: GenerateCommand
        do {
            command = try parse(arguments)
        } catch {
            FileHandle.standardError.write(Data("ai-worker generate: \(error)\n\(usage)\n".utf8))
            return 64
        }
        do {
            try await command.run()
            return 0
        } catch let error as EngineError {
            FileHandle.standardError.write(Data("ai-worker generate: failed (\(error.code.rawValue)): \(error.message)\n".utf8))
            return 1
        } catch {
            FileHandle.standardError.write(Data("ai-worker generate: failed: \(error)\n".utf8))
            return 1
        }
    }

    static func parse(_ arguments: [String]) throws -> GenerateCommand {
        var command = GenerateCommand()
        var rest = arguments[...]
        func value(_ flag: String) throws -> String {
            guard let next = rest.popFirst() else { throw UsageError(description: "\(flag) needs a value") }
            return next
        }
        func int(_ flag: String) throws -> Int {
            let text = try value(flag)
            guard let number = Int(text) else { throw UsageError(description: "\(flag) must be an integer, not \(text)") }
            return number
        }
        func double(_ flag: String) throws -> Double {
            let text = try value(flag)
            guard let number = Double(text), number.isFinite else { throw UsageError(description: "\(flag) must be a number, not \(text)") }
            return number
        }
        while let flag = rest.popFirst() {
            switch flag {
            case "--model-file": command.files.checkpoint = try value(flag)
            case "--diffusion-model": command.files.diffusionModel = try value(flag)
            case "--clip-l": command.files.clipL = try value(flag)
            case "--clip-g": command.files.clipG = try value(flag)
            case "--t5xxl": command.files.t5xxl = try value(flag)
            case "--vae": command.files.vae = try value(flag)
            case "--family": command.family = try value(flag)
            case "--lora":
                let spec = try value(flag)
                guard let colon = spec.lastIndex(of: ":"), let weight = Double(spec[spec.index(after: colon)...]), weight.isFinite else {
                    throw UsageError(description: "--lora takes PATH:WEIGHT, e.g. lora.safetensors:0.8")
                }
                let path = String(spec[..<colon])
                command.loras.append(EngineJob.LoRA(name: (path as NSString).lastPathComponent, path: path, weight: weight))
            case "--prompt": command.prompt = try value(flag)
            case "--negative-prompt": command.negativePrompt = try value(flag)
            case "--width": command.width = try int(flag)
            case "--height": command.height = try int(flag)
            case "--steps": command.steps = try int(flag)
            case "--seed":
                let text = try value(flag)
                guard let seed = Int64(text) else { throw UsageError(description: "--seed must be an integer, not \(text)") }
                command.seed = seed
            case "--batch": command.batch = try int(flag)
            case "--cfg-scale": command.cfgScale = try double(flag)
            case "--sampler": command.sampler = try value(flag)
            case "--scheduler": command.scheduler = try value(flag)
            case "--control-net": command.controlNet = try value(flag)
            case "--control-image": command.controlImage = try value(flag)
            case "--control-strength": command.controlStrength = try double(flag)
            case "--threads": command.threads = try int(flag)
            case "--library": command.library = try value(flag)
            case "--out": command.out = try value(flag)
            case "--serve": command.serve = true
            case "-h", "--help": throw UsageError(description: "help")
            default: throw UsageError(description: "unknown option \(flag)")
            }
        }
        if command.files.all.isEmpty { throw UsageError(description: "--model-file (or --diffusion-model for Flux) is required") }
        if command.prompt == nil { throw UsageError(description: "--prompt is required") }
        if command.width == nil || command.height == nil { throw UsageError(description: "--width and --height are required") }
        if command.steps == nil { throw UsageError(description: "--steps is required") }
        if command.seed == nil { throw UsageError(description: "--seed is required") }
        if command.out == nil, !command.serve { throw UsageError(description: "--out is required") }
        if (command.controlNet == nil) != (command.controlImage == nil) {
            throw UsageError(description: "--control-net and --control-image go together")
        }
        return command
    }

    func job() throws -> EngineJob {
        var control: EngineJob.ControlNet?
        if let controlNet, let controlImage {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: controlImage))
            control = EngineJob.ControlNet(name: "cli", path: controlNet, image: Array(bytes), strength: controlStrength)
        }
        return EngineJob(
            model: (files.all.first.map { ($0 as NSString).lastPathComponent }) ?? "model", family: family, files: files,
            prompt: prompt ?? "", negativePrompt: negativePrompt, width: width ?? 0, height: height ?? 0, steps: steps ?? 0,
            cfgScale: cfgScale, sampler: sampler, scheduler: scheduler, seed: seed ?? 0, batchSize: batch, loras: loras,
            controlNet: control, cancellation: EngineCancellation()
        )
    }

    func run() async throws {
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
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            let hash = SHA256Digest.hex(images[0].rgb)
            FileHandle.standardOutput.write(Data("{\"seconds\":\(seconds),\"sha256\":\"\(hash)\"}\n".utf8))
        }
    }
}
