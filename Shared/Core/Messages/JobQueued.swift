package import Foundation

/// A job accepted and priced by generation, on its way to a worker's queue (`job.queued`).
///
/// Written to the outbox with the job; the relay puts it on the Redis stream named by `queue`.
/// A retry re-publishes it with `attempt` incremented.
package struct JobQueued: WireMessage, Equatable {
    package static let type = "job.queued"

    package var jobID: JobID
    package var userID: UserID
    /// 1 for the first delivery, incremented on every retry.
    package var attempt: Int
    package var plan: Plan
    /// Scheduling priority at enqueue time (usually `plan.priority`).
    package var priority: Int
    package var request: JobRequest
    package var cost: Credits
    /// The stream/pool the model router picked.
    package var queue: String
    /// After this the job fails (`expired`) instead of starting.
    package var deadline: Date?
    /// Seconds the job may run once started; past them the worker stops it and it fails (`timeout`).
    package var runTimeout: Int?
    /// A retry waits in the queue until then (backoff); nil: at once.
    package var notBefore: Date?
    package var enqueuedAt: Date
    /// Seconds the router expects the job to run (for ETAs until run times are measured); nil: unknown.
    package var estimatedSeconds: Double?

    package init(
        jobID: JobID, userID: UserID, attempt: Int = 1, plan: Plan, priority: Int? = nil, request: JobRequest, cost: Credits,
        queue: String, deadline: Date? = nil, runTimeout: Int? = nil, notBefore: Date? = nil, enqueuedAt: Date,
        estimatedSeconds: Double? = nil
    ) {
        self.jobID = jobID
        self.userID = userID
        self.attempt = attempt
        self.plan = plan
        self.priority = priority ?? plan.priority
        self.request = request
        self.cost = cost
        self.queue = queue
        self.deadline = deadline
        self.runTimeout = runTimeout
        self.notBefore = notBefore
        self.enqueuedAt = enqueuedAt
        self.estimatedSeconds = estimatedSeconds
    }

    enum CodingKeys: String, CodingKey {
        case attempt, plan, priority, request, cost, queue, deadline
        case jobID = "job_id"
        case userID = "user_id"
        case enqueuedAt = "enqueued_at"
        case runTimeout = "run_timeout"
        case notBefore = "not_before"
        case estimatedSeconds = "estimated_seconds"
    }
}
