import Foundation
import Logging
import TestSupport
import Testing
@testable import AIWorkerService

/// Image-to-image, inpainting and upscaling on the real library, through the engine child the
/// worker uses (`ChildProcessEngine`), with the tiny model (its TAE encoder turns init images into
/// latents) and the tiny RealESRGAN models.
@Suite(.serialized, .timeLimit(.minutes(10))) struct ImageToImageTests {
    static let engine: ChildProcessEngine = {
        var logger = Logger(label: "img2img-test")
        logger.logLevel = .notice
        return ChildProcessEngine(
            executable: ServiceProcess.binDirectory.appendingPathComponent("ai-worker").path, library: EngineTestModel.libraryPath,
            memoryBudgetMB: 8000, threads: 2, logger: logger
        )
    }()

    /// A 64x64 gradient: red across, green down.
    static let initRGB: [UInt8] = {
        var rgb = [UInt8](repeating: 128, count: 64 * 64 * 3)
        for y in 0..<64 {
            for x in 0..<64 {
                rgb[(y * 64 + x) * 3] = UInt8(x * 4)
                rgb[(y * 64 + x) * 3 + 1] = UInt8(y * 4)
            }
        }
        return rgb
    }()

    /// White (repaint) in the square 16..<48, black elsewhere.
    static func mask(size: Int = 64) throws -> [UInt8] {
        var rgb = [UInt8](repeating: 0, count: size * size * 3)
        let square = size / 4..<size * 3 / 4
        for y in square {
            for x in square {
                for c in 0..<3 { rgb[(y * size + x) * 3 + c] = 255 }
            }
        }
        return try PNGEncoder.encode(rgb: rgb, width: size, height: size)
    }

    static func job(strength: Double, seed: Int64 = 42, mask: [UInt8]? = nil) throws -> EngineJob {
        if let missing = EngineTestModel.missing { Issue.record("\(missing)") }
        var job = EngineCrashTests.goodJob(seed: seed)
        job.initImage = try PNGEncoder.encode(rgb: initRGB, width: 64, height: 64)
        job.strength = strength
        job.mask = mask
        return job
    }

    @Test func strengthZeroGivesTheInitImageStrengthOneAnotherAndTheSameSeedTheSameBytes() async throws {
        let engine = Self.engine
        let zero = try await engine.generate(try Self.job(strength: 0)) { _ in }
        #expect(zero[0].rgb == Self.initRGB, "strength 0: the init image, unchanged")
        // Of 2 steps, strength 0.3 samples ⌊2 × 0.3⌋ + 1 = 1 from the init image; strength 1 both from noise.
        let part = try await engine.generate(try Self.job(strength: 0.3)) { _ in }
        let partAgain = try await engine.generate(try Self.job(strength: 0.3)) { _ in }
        let full = try await engine.generate(try Self.job(strength: 1)) { _ in }
        #expect(part[0].rgb == partAgain[0].rgb, "same init image, strength and seed: identical bytes")
        #expect(full[0].rgb != Self.initRGB && full[0].rgb != part[0].rgb, "strength 1 gives another image")
        let otherSeed = try await engine.generate(try Self.job(strength: 0.3, seed: 43)) { _ in }
        #expect(otherSeed[0].rgb != part[0].rgb)
    }

    @Test func inpaintingKeepsEveryPixelOutsideTheMaskAndRepaintsInside() async throws {
        let engine = Self.engine
        let mask = try Self.mask()
        let result = try await engine.generate(try Self.job(strength: 1, mask: mask)) { _ in }
        var outsideChanged = 0, insideChanged = 0
        for index in 0..<64 * 64 {
            let (x, y) = (index % 64, index / 64)
            let inside = (16..<48).contains(x) && (16..<48).contains(y)
            let same = result[0].rgb[index * 3..<index * 3 + 3] == Self.initRGB[index * 3..<index * 3 + 3]
            if inside, !same { insideChanged += 1 }
            if !inside, !same { outsideChanged += 1 }
        }
        #expect(outsideChanged == 0, "tolerance 0: every pixel outside the mask is the init image's")
        #expect(insideChanged > 32 * 32 / 2, "the masked square is repainted (\(insideChanged) of 1024 pixels changed)")
        let again = try await engine.generate(try Self.job(strength: 1, mask: mask)) { _ in }
        #expect(again[0].rgb == result[0].rgb)
    }

    @Test func aMaskOfAnotherSizeThanTheInitImageFailsInvalidRequest() async throws {
        let job = try Self.job(strength: 0.5, mask: try Self.mask(size: 32))
        do {
            _ = try await Self.engine.generate(job) { _ in }
            Issue.record("a mask of another size must fail")
        } catch {
            #expect(error.code == .invalidRequest && error.message.contains("mask"), "\(error)")
        }
    }

    @Test(arguments: [2, 4])
    func upscalingA64x64ImageGivesTheModelsFactor(_ scale: Int) async throws {
        var job = try Self.job(strength: 0)
        job.upscaler = EngineTestModel.esrganPath(scale: scale)
        let images = try await Self.engine.generate(job) { _ in }
        #expect(images.count == 1 && images[0].width == 64 * scale && images[0].height == 64 * scale)
        #expect(images[0].rgb.count == 64 * scale * 64 * scale * 3 && Set(images[0].rgb).count > 16, "real pixels")
        let again = try await Self.engine.generate(job) { _ in }
        #expect(again[0].rgb == images[0].rgb)
    }
}
