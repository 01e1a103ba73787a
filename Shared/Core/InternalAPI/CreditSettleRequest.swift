/// `POST /internal/credits/holds/capture` or `/release` on user: settle the hold of a job.
///
/// Idempotent: settling an already settled hold the same way succeeds and changes nothing.
package struct CreditSettleRequest: Codable, Sendable, Equatable {
    package var jobID: JobID

    package init(jobID: JobID) { self.jobID = jobID }

    enum CodingKeys: String, CodingKey {
        case jobID = "job_id"
    }
}
