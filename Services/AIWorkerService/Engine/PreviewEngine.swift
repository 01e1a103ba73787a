import Core
import Foundation
import ServiceKit

/// Procedural stand-in images, for running everything where no model weights exist.
///
/// Outputs are marked `engine: preview` and are never presented as AI output. Each step waits
/// `stepDelay` (a few milliseconds) so progress and cancellation behave like a real engine's.
struct PreviewEngine: ImageEngine {
    let id = "preview"
    let stepDelay: Duration
    private let executor = BlockingExecutor(label: "ai-worker.preview-engine")

    init(stepDelay: Duration = .milliseconds(10)) {
        self.stepDelay = stepDelay
    }

    func warmModels(among models: [String]) async -> [String] { models }  // nothing to load

    func generate(_ job: EngineJob, progress: @escaping @Sendable (EngineProgress) -> Void) async throws(EngineError) -> [EngineImage] {
        guard job.width > 0, job.height > 0, job.width * job.height <= 4096 * 4096, job.steps > 0, job.batchSize > 0 else {
            throw EngineError(.invalidRequest, "size, steps and batch size must be positive")
        }
        let delay = stepDelay
        let result = await withTaskCancellationHandler {
            await executor.run { Result { () throws(EngineError) in try Self.run(job, stepDelay: delay, progress: progress) } }
        } onCancel: {
            job.cancellation.cancel(.shutdown)
        }
        return try result.get()
    }

    /// The blocking part, on the engine's queue: steps (progress, cancellation) then pixels, image by image.
    private static func run(_ job: EngineJob, stepDelay: Duration, progress: (EngineProgress) -> Void) throws(EngineError) -> [EngineImage] {
        let pause = stepDelay.inSeconds
        var images: [EngineImage] = []
        for index in 0..<job.batchSize {
            for step in 1...job.steps {
                if job.cancellation.isCanceled { throw EngineError(.canceled, "canceled at step \(step) of image \(index + 1)") }
                if pause > 0 { Thread.sleep(forTimeInterval: pause) }
                progress(EngineProgress(step: step, totalSteps: job.steps, imageIndex: index, imageCount: job.batchSize))
            }
            let seed = job.seed &+ Int64(index)
            let rgb = PreviewRenderer.render(prompt: job.prompt, seed: seed, width: job.width, height: job.height)
            images.append(EngineImage(width: job.width, height: job.height, rgb: rgb, seed: seed))
        }
        return images
    }
}
