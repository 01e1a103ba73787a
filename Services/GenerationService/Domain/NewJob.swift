import Core
import Foundation

/// A priced and held job, ready to be written with its `JobQueued` outbox row.
struct NewJob: Sendable {
    var id: JobID
    var userID: UserID
    var request: JobRequest
    var queue: String
    var plan: Plan
    var priority: Int
    var cost: Credits
    var deadlineAt: Date
    var runTimeout: Int
    /// Per-user cap on queued jobs, checked in the same transaction as the insert.
    var maxQueued: Int
    /// `Idempotency-Key` with the hash of the canonical request body, when the client sent one.
    var idempotency: (key: String, requestHash: String)?
    /// The router's estimate of the run, seconds.
    var estimatedSeconds: Double? = nil
}
