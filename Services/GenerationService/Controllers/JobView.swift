import Core
import Foundation

/// A generation as the public API shows it; unknown values are `null`, never missing.
///
/// `queue_position` (queued jobs: how many the dispatcher will start before this one),
/// `estimated_start_at` and `estimated_finish_at` come from the job queue (`QueueEstimator`).
struct JobView: Encodable, Sendable {
    let job: Job
    var estimate: JobEstimate?

    init(job: Job, estimate: JobEstimate? = nil) {
        self.job = job
        self.estimate = estimate
    }

    enum CodingKeys: String, CodingKey {
        case id, status, model, prompt, cost, progress, images, error, attempt, retries
        case lastError = "last_error"
        case queuePosition = "queue_position"
        case estimatedStartAt = "estimated_start_at"
        case estimatedFinishAt = "estimated_finish_at"
        case createdAt = "created_at"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
    }

    struct Progress: Encodable {
        var step: Int?
        var total: Int
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(step, forKey: .step)
            try c.encode(total, forKey: .total)
        }
        enum CodingKeys: String, CodingKey { case step, total }
    }

    struct Image: Encodable {
        var id: ImageID
        var url: String
    }

    /// Steps done as far as the database knows: live steps travel on the event stream only.
    var progress: Progress {
        // An upscale is one pass of the upscaler.
        let total = job.request.isUpscale ? 1 : job.request.steps
        switch job.status {
        case .queued: return Progress(step: 0, total: total)
        case .succeeded: return Progress(step: total, total: total)
        case .running, .failed, .canceled: return Progress(step: nil, total: total)
        }
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(job.id, forKey: .id)
        try c.encode(job.status, forKey: .status)
        try c.encode(job.model, forKey: .model)
        try c.encode(job.request.prompt, forKey: .prompt)
        try c.encode(job.status == .queued ? estimate?.position : nil, forKey: .queuePosition)
        try c.encode(job.status == .queued ? estimate?.startAt : nil, forKey: .estimatedStartAt)
        try c.encode(job.status.isTerminal ? nil : estimate?.finishAt, forKey: .estimatedFinishAt)
        try c.encode(job.cost, forKey: .cost)
        try c.encode(job.attempt, forKey: .attempt)
        try c.encode(job.retries, forKey: .retries)
        try c.encode(job.lastError, forKey: .lastError)
        try c.encode(progress, forKey: .progress)
        try c.encode(job.images.map { Image(id: $0.imageID, url: "/api/v1/images/\($0.imageID)/content") }, forKey: .images)
        try c.encode(job.error, forKey: .error)
        try c.encode(job.createdAt, forKey: .createdAt)
        try c.encode(job.startedAt, forKey: .startedAt)
        try c.encode(job.finishedAt, forKey: .finishedAt)
    }
}

/// The 202 answer to a create: `{id, status, queue_position, estimated_start_at, estimated_finish_at, cost}`,
/// the estimate as of the submission.
struct AcceptedView: Encodable, Sendable {
    let job: Job
    var estimate: JobEstimate?

    enum CodingKeys: String, CodingKey {
        case id, status, cost
        case queuePosition = "queue_position"
        case estimatedStartAt = "estimated_start_at"
        case estimatedFinishAt = "estimated_finish_at"
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(job.id, forKey: .id)
        try c.encode(job.status, forKey: .status)
        try c.encode(estimate?.position, forKey: .queuePosition)
        try c.encode(estimate?.startAt, forKey: .estimatedStartAt)
        try c.encode(estimate?.finishAt, forKey: .estimatedFinishAt)
        try c.encode(job.cost, forKey: .cost)
    }
}

/// A page of the caller's jobs.
struct JobPage: Encodable, Sendable {
    var items: [JobView]
    var nextCursor: String?

    enum CodingKeys: String, CodingKey {
        case items
        case nextCursor = "next_cursor"
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(items, forKey: .items)
        try c.encode(nextCursor, forKey: .nextCursor)
    }
}
