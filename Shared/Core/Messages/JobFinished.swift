/// A worker's report that an attempt ended (`job.finished`).
///
/// Generation applies it once per `(job_id, attempt)`: a duplicate delivery changes nothing.
package struct JobFinished: WireMessage, Equatable {
    package static let type = "job.finished"

    package var jobID: JobID
    package var attempt: Int
    package var workerID: String
    package var outcome: JobOutcome

    package init(jobID: JobID, attempt: Int, workerID: String, outcome: JobOutcome) {
        self.jobID = jobID
        self.attempt = attempt
        self.workerID = workerID
        self.outcome = outcome
    }

    enum CodingKeys: String, CodingKey {
        case attempt, outcome
        case jobID = "job_id"
        case workerID = "worker_id"
    }
}
