import Synchronization
import Testing
@testable import AIWorkerService

@Suite(.timeLimit(.minutes(2))) struct PreviewEngineTests {
    static func job(seed: Int64, prompt: String = "a red fox in snow", steps: Int = 5, batch: Int = 1) -> EngineJob {
        EngineJob(
            model: "preview", family: "preview", files: EngineModelFiles(), prompt: prompt, negativePrompt: "",
            width: 64, height: 48, steps: steps, cfgScale: 7, sampler: nil, scheduler: nil, seed: seed, batchSize: batch,
            loras: [], controlNet: nil, cancellation: EngineCancellation()
        )
    }

    let engine = PreviewEngine(stepDelay: .milliseconds(1))

    @Test func sameInputsGiveIdenticalPixelsOtherSeedOrPromptDiffer() async throws {
        let first = try await engine.generate(Self.job(seed: 42)) { _ in }
        let again = try await engine.generate(Self.job(seed: 42)) { _ in }
        let otherSeed = try await engine.generate(Self.job(seed: 43)) { _ in }
        let otherPrompt = try await engine.generate(Self.job(seed: 42, prompt: "a blue whale")) { _ in }
        #expect(first == again)
        #expect(first[0].rgb != otherSeed[0].rgb)
        #expect(first[0].rgb != otherPrompt[0].rgb)
        #expect(first[0].rgb.count == 64 * 48 * 3 && first[0].width == 64 && first[0].height == 48 && first[0].seed == 42)
        let distinct = Set(stride(from: 0, to: first[0].rgb.count, by: 3).map { first[0].rgb[$0] })
        #expect(distinct.count > 8, "a picture, not a flat colour")
    }

    @Test func reportsProgressOncePerStepAndSeedsBatchImagesInOrder() async throws {
        let steps = Mutex<[EngineProgress]>([])
        let images = try await engine.generate(Self.job(seed: 10, steps: 6, batch: 2)) { progress in
            steps.withLock { $0.append(progress) }
        }
        let seen = steps.withLock { $0 }
        #expect(seen.count == 12)
        #expect(seen.map(\.step) == Array(1...6) + Array(1...6))
        #expect(seen.map(\.imageIndex) == Array(repeating: 0, count: 6) + Array(repeating: 1, count: 6))
        let finals = seen.filter { $0.isFinal }.count
        #expect(seen.last?.isFinal == true && finals == 1)
        #expect(images.map(\.seed) == [10, 11])
    }

    @Test func stopsWithCanceledWhenFlagged() async throws {
        let job = Self.job(seed: 1, steps: 1000)
        await #expect(throws: EngineError.self) {
            try await engine.generate(job) { progress in
                if progress.step == 3 { job.cancellation.cancel(.requested) }
            }
        }
        do {
            _ = try await engine.generate(job) { _ in }
        } catch {
            #expect(error.code == .canceled)
        }
    }
}
