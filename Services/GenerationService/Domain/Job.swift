import Core
import Foundation

/// A generation job as generation stores it.
struct Job: Sendable, Equatable {
    var id: JobID
    var userID: UserID
    var status: JobStatus
    var request: JobRequest
    var queue: String
    var plan: Plan
    var priority: Int
    var cost: Credits
    var attempt: Int
    /// How many times a failed attempt was retried; `lastError` says why the last one failed.
    var retries: Int
    var lastError: JobError?
    var images: [ProducedImage]
    var error: JobError?
    var createdAt: Date
    var startedAt: Date?
    var finishedAt: Date?
    /// When it fails `expired` if it has not started.
    var deadlineAt: Date?
    /// Seconds it may run once started.
    var runTimeout: Int?
    /// Ordering key for cursor paging (a bigserial, newest largest).
    var sequence: Int64

    var model: String { request.model }
}

/// Why a job did not succeed, as the public API shows it.
struct JobError: Codable, Sendable, Equatable {
    var code: String
    var message: String
}

/// What must happen to a job's credit hold once it is finished.
enum Settlement: String, Sendable {
    case capture
    case release
}
