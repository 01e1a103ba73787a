import Core
import Synchronization

/// What the worker is doing, shared by the job loop, the lease watch and the heartbeat.
final class WorkerStatus: Sendable {
    private struct State {
        var currentJob: JobID?
        var stopRequestedAt: ContinuousClock.Instant?
    }

    private let state = Mutex(State())

    init() {}

    func begin(_ job: JobID) { state.withLock { $0.currentJob = job } }
    func end() { state.withLock { $0.currentJob = nil } }

    var currentJob: JobID? { state.withLock { $0.currentJob } }
    var isBusy: Bool { currentJob != nil }

    /// SIGTERM arrived: take no new jobs.
    func requestStop() {
        state.withLock { if $0.stopRequestedAt == nil { $0.stopRequestedAt = .now } }
    }

    var isStopping: Bool { state.withLock { $0.stopRequestedAt != nil } }

    /// Whether the running job has had its `grace` since the stop request and must be handed back.
    func graceExpired(_ grace: Duration) -> Bool {
        state.withLock { state in state.stopRequestedAt.map { ContinuousClock.now - $0 >= grace } ?? false }
    }
}
