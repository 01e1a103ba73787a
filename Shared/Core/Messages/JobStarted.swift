package import Foundation

/// A worker took a job and holds its lease (`job.started`).
package struct JobStarted: WireMessage, Equatable {
    package static let type = "job.started"

    package var jobID: JobID
    package var attempt: Int
    package var workerID: String
    package var startedAt: Date

    package init(jobID: JobID, attempt: Int, workerID: String, startedAt: Date) {
        self.jobID = jobID
        self.attempt = attempt
        self.workerID = workerID
        self.startedAt = startedAt
    }

    enum CodingKeys: String, CodingKey {
        case attempt
        case jobID = "job_id"
        case workerID = "worker_id"
        case startedAt = "started_at"
    }
}
