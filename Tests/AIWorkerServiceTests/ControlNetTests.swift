import Foundation
import Logging
import TestSupport
import Testing
@testable import AIWorkerService

/// ControlNet on the real library: the tiny full-layout SD1 model with the tiny SD1 ControlNet
/// (about 3 GB once loaded), control images sent as PNGs the way clients send them.
@Suite(.serialized, .timeLimit(.minutes(10))) struct ControlNetTests {
    /// Black and white stripes, horizontal or vertical, at `size` x `size`.
    static func stripes(vertical: Bool, size: Int = 32) throws -> [UInt8] {
        var rgb = [UInt8](repeating: 0, count: size * size * 3)
        for y in 0..<size {
            for x in 0..<size where ((vertical ? x : y) / 4) % 2 == 0 {
                rgb[(y * size + x) * 3] = 255
                rgb[(y * size + x) * 3 + 1] = 255
                rgb[(y * size + x) * 3 + 2] = 255
            }
        }
        return try PNGEncoder.encode(rgb: rgb, width: size, height: size)
    }

    static func job(control: [UInt8]?, strength: Double = 1.0, family: String = "sd15") -> EngineJob {
        EngineJob(
            model: "tiny-sd1", family: family, files: EngineModelFiles(checkpoint: EngineTestModel.sd1ModelPath),
            prompt: "a house", negativePrompt: "", width: 64, height: 64, steps: 1, cfgScale: 7, sampler: "euler", scheduler: nil,
            seed: 5, batchSize: 1, loras: [],
            controlNet: control.map { EngineJob.ControlNet(name: "canny", path: EngineTestModel.controlNetPath, image: $0, strength: strength) },
            cancellation: EngineCancellation()
        )
    }

    @Test func theControlImageSteersTheImageDeterministically() async throws {
        if let missing = EngineTestModel.missing { Issue.record("\(missing)") }
        let library = try StableDiffusionLibrary.load(path: EngineTestModel.libraryPath).get()
        let engine = StableDiffusionEngine(library: library, memoryBudgetBytes: 8 << 30, threads: 2, logger: Logger(label: "controlnet-test"))

        let horizontal = try Self.stripes(vertical: false)
        let vertical = try Self.stripes(vertical: true)
        let first = try await engine.generate(Self.job(control: horizontal)) { _ in }
        let again = try await engine.generate(Self.job(control: horizontal)) { _ in }
        let other = try await engine.generate(Self.job(control: vertical)) { _ in }
        #expect(first[0].width == 64 && first[0].height == 64, "a 32x32 control image is scaled to the output size")
        #expect(first[0].rgb == again[0].rgb, "same control image, same pixels")
        #expect(first[0].rgb != other[0].rgb, "another control image, another image")

        // Bad control input fails the job with a clear code, and nothing aborts the process.
        do {
            _ = try await engine.generate(Self.job(control: Array("not a png".utf8))) { _ in }
            Issue.record("an undecodable control image must fail")
        } catch {
            #expect(error.code == .invalidRequest && error.message.contains("control image"))
        }
        do {
            _ = try await engine.generate(Self.job(control: horizontal, family: "sdxl")) { _ in }
            Issue.record("ControlNet on a family it does not fit must fail before the library is called")
        } catch {
            #expect(error.code == .invalidRequest)
        }
        await engine.cache.closeAll()
    }
}
