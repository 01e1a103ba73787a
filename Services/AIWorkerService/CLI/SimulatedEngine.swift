import Core
import Synchronization

/// An engine for `ai-worker bench-scheduler`: holds one model at a time, loading another takes
/// `loadTime`, each step `stepTime`; returns blank pixels. Counts its loads.
final class SimulatedEngine: ImageEngine {
    let id = "preview"
    let loadTime: Duration
    let stepTime: Duration
    private let loaded = Mutex<String?>(nil)
    private let loadCount = Atomic<Int>(0)

    init(loadTime: Duration, stepTime: Duration) {
        self.loadTime = loadTime
        self.stepTime = stepTime
    }

    var loads: Int { loadCount.load(ordering: .relaxed) }

    func warmModels(among models: [String]) async -> [String] {
        guard let model = loaded.withLock({ $0 }) else { return [] }
        return models.contains(model) ? [model] : []
    }

    func generate(_ job: EngineJob, progress: @escaping @Sendable (EngineProgress) -> Void) async throws(EngineError) -> [EngineImage] {
        do {
            if loaded.withLock({ $0 }) != job.model {
                loadCount.add(1, ordering: .relaxed)
                try await Task.sleep(for: loadTime)
                loaded.withLock { $0 = job.model }
            }
            for step in 1...max(1, job.steps) {
                try await Task.sleep(for: stepTime)
                progress(EngineProgress(step: step, totalSteps: job.steps, imageIndex: 0, imageCount: 1))
            }
        } catch {
            throw EngineError(.canceled, "benchmark stopped")
        }
        return [EngineImage(width: job.width, height: job.height, rgb: [UInt8](repeating: 0, count: job.width * job.height * 3), seed: job.seed)]
    }
}
