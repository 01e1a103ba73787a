/// `POST /internal/credits/holds` on user: reserve `amount` for a job.
///
/// Idempotent by `job_id`: asking again returns the existing hold.
package struct CreditHoldRequest: Codable, Sendable, Equatable {
    package var userID: UserID
    package var jobID: JobID
    package var amount: Credits

    package init(userID: UserID, jobID: JobID, amount: Credits) {
        self.userID = userID
        self.jobID = jobID
        self.amount = amount
    }

    enum CodingKeys: String, CodingKey {
        case amount
        case userID = "user_id"
        case jobID = "job_id"
    }
}
