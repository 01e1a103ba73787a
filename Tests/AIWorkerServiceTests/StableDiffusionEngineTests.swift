import Core
import Foundation
import Logging
import Synchronization
import TestSupport
import Testing
@testable import AIWorkerService

/// The real stable-diffusion.cpp library on the tiny random model, at 64x64 and 1-2 steps on CPU.
/// One engine (and so one loaded context) serves the whole suite; the tests run one after another
/// because each generation takes both cores.
@Suite(.serialized, .timeLimit(.minutes(10))) struct StableDiffusionEngineTests {
    static let engine = RealEngine.load(label: "engine-test")

    func engine() throws -> StableDiffusionEngine { try RealEngine.require(Self.engine) }

    static func job(seed: Int64 = 42, steps: Int = 2, batch: Int = 1, loras: [EngineJob.LoRA] = [], model: String = EngineTestModel.modelPath) -> EngineJob {
        EngineJob(
            model: "tiny-sd", family: "sd15", files: EngineModelFiles(checkpoint: model), prompt: "a lighthouse at dusk",
            negativePrompt: "blurry", width: 64, height: 64, steps: steps, cfgScale: 7, sampler: "euler_a", scheduler: "discrete",
            seed: seed, batchSize: batch, loras: loras, controlNet: nil, cancellation: EngineCancellation()
        )
    }

    static let lora = EngineJob.LoRA(name: "tiny-lora", path: EngineTestModel.loraPath, weight: 1.0)

    @Test func sameSeedSameBytesOtherSeedOtherBytesAndOneProgressCallPerStep() async throws {
        let engine = try engine()
        let steps = Mutex<[EngineProgress]>([])
        let first = try await engine.generate(Self.job()) { progress in steps.withLock { $0.append(progress) } }
        let again = try await engine.generate(Self.job()) { _ in }
        let other = try await engine.generate(Self.job(seed: 43)) { _ in }

        #expect(first.count == 1 && first[0].width == 64 && first[0].height == 64 && first[0].rgb.count == 64 * 64 * 3)
        #expect(first[0].rgb == again[0].rgb, "same seed, same model, same parameters: identical pixels")
        #expect(first[0].rgb != other[0].rgb, "another seed gives another image")
        #expect(Set(first[0].rgb).count > 16, "a real image, not a constant fill")
        #expect(steps.withLock { $0 } == [
            EngineProgress(step: 1, totalSteps: 2, imageIndex: 0, imageCount: 1),
            EngineProgress(step: 2, totalSteps: 2, imageIndex: 0, imageCount: 1),
        ], "once per sampling step, none for model or tensor loading")

        // The PNG the worker stores has the requested size.
        let png = try PNGReader(try PNGEncoder.encode(rgb: first[0].rgb, width: 64, height: 64))
        #expect(png.width == 64 && png.height == 64)
        #expect(await engine.warmModels(among: ["tiny-sd", "sd15"]) == ["tiny-sd"])
    }

    @Test func loraChangesTheOutputAndLeavesTheModelUnchanged() async throws {
        let engine = try engine()
        let plain = try await engine.generate(Self.job(steps: 1)) { _ in }
        let withLoRA = try await engine.generate(Self.job(steps: 1, loras: [Self.lora])) { _ in }
        let withLoRAAgain = try await engine.generate(Self.job(steps: 1, loras: [Self.lora])) { _ in }
        let plainAfter = try await engine.generate(Self.job(steps: 1)) { _ in }
        #expect(plain[0].rgb != withLoRA[0].rgb, "the LoRA changes the image")
        #expect(withLoRA[0].rgb == withLoRAAgain[0].rgb, "a LoRA job is deterministic too")
        #expect(plain[0].rgb == plainAfter[0].rgb, "a LoRA job leaves the cached model's weights as they were")
    }

    @Test func batchOfNGivesNImagesEachTheImageOfItsSeed() async throws {
        let engine = try engine()
        let steps = Mutex<[EngineProgress]>([])
        let batch = try await engine.generate(Self.job(seed: 7, steps: 1, batch: 3)) { progress in steps.withLock { $0.append(progress) } }
        let single = try await engine.generate(Self.job(seed: 8, steps: 1)) { _ in }
        #expect(batch.count == 3)
        #expect(batch.map(\.seed) == [7, 8, 9])
        #expect(batch[1].rgb == single[0].rgb, "image i of a batch is the single image with seed + i")
        #expect(Set(batch.map(\.rgb)).count == 3)
        #expect(steps.withLock { $0.map(\.imageIndex) } == [0, 1, 2])
    }

    @Test func missingOrBrokenFilesFailWithTheirCodes() async throws {
        let engine = try engine()
        await #expect(throws: EngineError.self) { try await engine.generate(Self.job(model: "/nonexistent/model.ckpt")) { _ in } }
        do {
            _ = try await engine.generate(Self.job(model: EngineTestModel.modelsDir + "/no-such-model.ckpt")) { _ in }
            Issue.record("a missing model file must fail")
        } catch {
            #expect(error.code == .modelNotFound)
            #expect(!error.message.contains(EngineTestModel.modelsDir), "no server paths in a message users may see: \(error.message)")
        }

        let garbage = FileManager.default.temporaryDirectory.appendingPathComponent("\(TestStack.uniqueName("garbage")).ckpt")
        try Data("this is not a checkpoint".utf8).write(to: garbage)
        defer { try? FileManager.default.removeItem(at: garbage) }
        do {
            _ = try await engine.generate(Self.job(model: garbage.path)) { _ in }
            Issue.record("an unreadable model file must fail")
        } catch {
            #expect(error.code == .invalidModel, "\(error)")
        }

        let missingLoRA = EngineJob.LoRA(name: "gone", path: EngineTestModel.modelsDir + "/gone.safetensors", weight: 1)
        do {
            _ = try await engine.generate(Self.job(loras: [missingLoRA])) { _ in }
            Issue.record("a missing LoRA must fail the job (the library itself would ignore it)")
        } catch {
            #expect(error.code == .modelNotFound)
        }

        var unaligned = Self.job()
        unaligned.width = 68
        do {
            _ = try await engine.generate(unaligned) { _ in }
            Issue.record("a width the model would round must fail")
        } catch {
            #expect(error.code == .invalidRequest)
        }

        var sampler = Self.job()
        sampler.sampler = "warp-drive"
        do {
            _ = try await engine.generate(sampler) { _ in }
            Issue.record("an unknown sampler must fail")
        } catch {
            #expect(error.code == .invalidRequest)
        }

        // After all of that the engine still works.
        #expect(try await engine.generate(Self.job(steps: 1)) { _ in }.count == 1)
    }

    @Test func cancelStopsWithinTheImageAndTheModelStaysIntact() async throws {
        let engine = try engine()
        let reference = try await engine.generate(Self.job(steps: 2)) { _ in }

        // Cancel from outside, 100 ms into step 2 of 12 of the first of 3 images: the engine stops at
        // the end of that step (the library offers no finer point).
        var latencies: [Duration] = []
        for _ in 0..<3 {
            let job = Self.job(seed: 99, steps: 12, batch: 3)
            let seen = Mutex<[EngineProgress]>([])
            let canceler = Task {
                try await eventually(timeout: .seconds(60), pollEvery: .milliseconds(5), "the engine reported its first step") {
                    !seen.withLock { $0.isEmpty }
                }
                // Deliberately 100 ms into the next step (the point of the test), not a wait for a condition.
                try await Task.sleep(for: .milliseconds(100))
                job.cancellation.cancel(.requested)
                return ContinuousClock.now
            }
            do {
                _ = try await engine.generate(job) { progress in seen.withLock { $0.append(progress) } }
                Issue.record("a canceled job must not complete")
            } catch {
                #expect(error.code == .canceled)
            }
            let stopped = ContinuousClock.now
            let canceledAt = try await canceler.value
            latencies.append(stopped - canceledAt)
            let steps = seen.withLock { $0 }
            #expect(steps.count < 12 && steps.allSatisfy { $0.imageIndex == 0 }, "stopped inside the first image: \(steps.map(\.step))")
        }
        print("engine cancel latency (cancel at a random point of a 64x64 step, 2 threads): \(latencies)")

        // The interrupted generations left the cached context as it was.
        let after = try await engine.generate(Self.job(steps: 2)) { _ in }
        #expect(after[0].rgb == reference[0].rgb, "same job after canceled ones: identical pixels")
    }

    @Test func aLibraryThatIsNotThereLeavesThePreviewEngine() async throws {
        switch StableDiffusionLibrary.load(path: "/nonexistent/libpingvas-sd.so") {
        case .success: Issue.record("loading a missing library cannot succeed")
        case .failure(let error): #expect(error.code == .engineUnavailable && error.message.contains("make engine"))
        }
        var configuration = try WorkerHarness().configuration
        configuration.sdLibrary = "/nonexistent/libpingvas-sd.so"
        #expect(AIWorkerServices.makeEngines(configuration: configuration, logger: Logger(label: "test")).keys.sorted() == ["preview"])
        configuration.sdLibrary = EngineTestModel.libraryPath
        #expect(AIWorkerServices.makeEngines(configuration: configuration, logger: Logger(label: "test")).keys.sorted() == ["preview", "sdcpp"])

        // Without the engine a worker does not take jobs it could only fail: other workers run them.
        let catalog = try ModelCatalog.load(path: EngineTestModel.catalog())
        let configured = ["cpu-preview", "gpu-sd15", EngineTestModel.pool, "spare"]
        #expect(AIWorkerServices.servablePools(configured, catalog: catalog, engines: ["preview"]) == ["cpu-preview", "spare"])
        #expect(AIWorkerServices.servablePools(configured, catalog: catalog, engines: ["preview", "sdcpp"]) == configured)
    }
}
