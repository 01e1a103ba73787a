import Core
import Foundation

/// A job's status changed (`job.status_changed`), published by generation on `pingvas:job:<id>`.
///
/// docs/pipeline.md names this message but Core does not define it yet; generation is both its only
/// producer and its only consumer (the SSE endpoint), so it lives here until Core takes it over.
struct JobStatusChanged: WireMessage, Equatable {
    static let type = "job.status_changed"

    var jobID: JobID
    var status: JobStatus
    var attempt: Int
    var changedAt: Date
    var error: JobError?

    enum CodingKeys: String, CodingKey {
        case status, attempt, error
        case jobID = "job_id"
        case changedAt = "changed_at"
    }
}
