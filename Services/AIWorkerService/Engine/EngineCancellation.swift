import Synchronization

/// A flag the worker sets and the engine polls between steps: the one way to stop a running generation.
final class EngineCancellation: Sendable {
    enum Reason: Int, Sendable {
        /// The job's owner canceled it (`pingvas:canceled:<id>` appeared): report `canceled`.
        case requested = 1
        /// The worker is going away: hand the job back to the queue.
        case shutdown = 2
        /// The job ran past its run deadline: report `timeout`.
        case timeout = 3
        /// The lease was lost (another worker took the job over): drop it without a report.
        case leaseLost = 4
    }

    private let state = Atomic<Int>(0)

    init() {}

    /// Sets the reason unless one is set already (the first reason wins).
    func cancel(_ reason: Reason) {
        _ = state.compareExchange(expected: 0, desired: reason.rawValue, ordering: .relaxed)
    }

    var reason: Reason? { Reason(rawValue: state.load(ordering: .relaxed)) }

    var isCanceled: Bool { reason != nil }
}
