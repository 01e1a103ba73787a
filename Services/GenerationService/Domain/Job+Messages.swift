import Core
import Foundation

extension Job {
    /// `JobQueued` for the worker pool's queue, as the outbox carries it.
    static func queuedMessage(_ job: NewJob, enqueuedAt: Date, keys: PipelineKeys) throws -> OutboxMessage {
        let message = JobQueued(
            jobID: job.id, userID: job.userID, attempt: 1, plan: job.plan, priority: job.priority, request: job.request,
            cost: job.cost, queue: job.queue, deadline: job.deadlineAt, runTimeout: job.runTimeout, enqueuedAt: enqueuedAt,
            estimatedSeconds: job.estimatedSeconds
        )
        return OutboxMessage(stream: keys.queue(job.queue), envelope: try WireCodec.encode(message))
    }

    /// `JobQueued` for another attempt of this job (a retry after `notBefore`, or a job Redis lost).
    func queuedMessage(attempt: Int, notBefore: Date?, keys: PipelineKeys) throws -> OutboxMessage {
        let message = JobQueued(
            jobID: id, userID: userID, attempt: attempt, plan: plan, priority: priority, request: request, cost: cost,
            queue: queue, deadline: nil, runTimeout: runTimeout, notBefore: notBefore, enqueuedAt: .now
        )
        return OutboxMessage(stream: keys.queue(queue), envelope: try WireCodec.encode(message))
    }

    /// `GenerationCompleted` for gallery's stream; the cost is what was charged (zero after a refund).
    func completedMessage(keys: PipelineKeys, traceparent: String?) throws -> OutboxMessage {
        OutboxMessage(stream: keys.generationEvents, envelope: try WireCodec.encode(completedEvent, traceparent: traceparent))
    }

    /// The `generation.completed` payload (the control image, an uploaded init image and mask left out of the recipe).
    var completedEvent: GenerationCompleted {
        var recipe = request
        recipe.controlnet?.image = ""
        // Like the control image, an uploaded init image and mask are not kept with every image's
        // recipe (they can be megabytes); `init_image_id` and `strength` are.
        if recipe.initImage != nil { recipe.initImage = "" }
        if recipe.mask != nil { recipe.mask = "" }
        return GenerationCompleted(
            jobID: id, userID: userID, status: status, model: request.model, prompt: request.prompt,
            negativePrompt: request.negativePrompt, images: status == .succeeded ? images : [],
            cost: status == .succeeded ? cost : .zero, finishedAt: finishedAt ?? .now, request: recipe
        )
    }
}

extension JobCompletion {
    /// What a worker's outcome does to the job and its hold.
    init(_ outcome: JobOutcome) {
        switch outcome {
        case .succeeded(let images):
            self.init(status: .succeeded, images: images, settlement: .capture)
        case .failed(let code, let message, _):
            // Final here: the results consumer retries a retryable failure before it gets this far.
            self.init(status: .failed, error: JobError(code: code, message: UserFacingText.withoutFilePaths(message)), settlement: .release)
        case .canceled:
            self.init(status: .canceled, error: .canceled, settlement: .release)
        }
    }
}

extension JobError {
    static let canceled = JobError(code: "canceled", message: "The generation was canceled.")
    static let workerLost = JobError(
        code: "worker_lost", message: "Every worker that took this generation stopped answering; it will not be tried again."
    )
    static let expired = JobError(code: "expired", message: "The generation waited longer than its queue deadline.")
    static let timeout = JobError(code: "timeout", message: "The generation ran longer than its run deadline.")
}
