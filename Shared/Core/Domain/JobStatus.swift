/// Where a generation job is in its life; the raw values are the public API's `status`.
package enum JobStatus: String, Codable, Sendable, CaseIterable {
    case queued
    case running
    case succeeded
    case failed
    case canceled

    /// True once nothing can change the job any more.
    package var isTerminal: Bool {
        switch self {
        case .queued, .running: false
        case .succeeded, .failed, .canceled: true
        }
    }

    /// Whether a job in this status may move to `next`.
    ///
    /// `running -> queued` is a retry (lost lease or retryable failure); `queued -> failed`
    /// covers a missed deadline. Terminal states never move, and staying put is not a transition,
    /// so a duplicate delivery of the same result is recognisable.
    package func canTransition(to next: JobStatus) -> Bool {
        switch (self, next) {
        case (.queued, .running), (.queued, .canceled), (.queued, .failed):
            true
        case (.running, .succeeded), (.running, .failed), (.running, .canceled), (.running, .queued):
            true
        default:
            false
        }
    }
}
