import Synchronization

/// The highest thread count seen while a burst runs.
final class ThreadSampler: Sendable {
    private let state: Mutex<(peak: Int, done: Bool)>

    init(baseline: Int) {
        state = Mutex((baseline, false))
    }

    var peak: Int { state.withLock { $0.peak } }
    var isDone: Bool { state.withLock { $0.done } }

    func record(_ count: Int) {
        state.withLock { $0.peak = max($0.peak, count) }
    }

    func finish() {
        state.withLock { $0.done = true }
    }
}
