import Core
import Foundation
import Logging
import RedisClient
import ServiceKit

/// Handles one dispatched job from start to result (docs/pipeline.md, "Job life" step 3).
///
/// Never throws: an unreadable job is dead-lettered, a failing job is reported as failed, and only
/// when Redis itself is unreachable (or the worker hands the job back on shutdown) does the job
/// stay leased, to be requeued when the lease runs out.
struct JobProcessor: Sendable {
    let queue: RedisJobQueue
    let workerID: String
    let catalog: ModelCatalog
    let engines: [String: any ImageEngine]
    let storage: any ImageStorage
    let modelsDir: String
    let status: WorkerStatus
    let lease: Duration
    let shutdownGrace: Duration
    let logger: Logger
    /// `PINGVAS_JOB_MAX_DELIVERIES`: an engine crash counts like a delivery whose worker died, so a job
    /// that crashes the engine is tried this many times in all, then fails `engine_crashed`.
    var maxDeliveries = 3
    /// PNG encoding is CPU work: off the cooperative pool.
    let encoder = BlockingExecutor(label: "ai-worker.png")

    var redis: RedisPool { queue.redis }
    var keys: PipelineKeys { queue.keys }

    func process(_ dispatched: DispatchedJob) async {
        let started = ContinuousClock.now
        let envelope: Envelope<JobQueued>
        do {
            envelope = try WireCodec.decode(JobQueued.self, from: Array(dispatched.envelope.utf8))
        } catch {
            await deadLetter(dispatched, reason: error.description, started: started)
            return
        }
        var job = envelope.data
        job.attempt = dispatched.attempt
        WorkerMetrics.queueWait(pool: dispatched.pool, plan: job.plan.rawValue, seconds: Date().timeIntervalSince(job.enqueuedAt))
        var logger = self.logger
        logger[metadataKey: "job_id"] = "\(job.jobID)"
        logger[metadataKey: "user_id"] = "\(job.userID)"
        logger[metadataKey: "attempt"] = "\(job.attempt)"
        if let traceparent = envelope.traceparent { logger[metadataKey: "trace_id"] = "\(traceparent)" }
        await RequestContext.$traceparent.withValue(envelope.traceparent) {
            // The time in the queue, from submission to now, as a span of its own; then the job.
            if let parent = envelope.traceparent.flatMap(SpanContext.init(traceparent:)) {
                Tracing.startSpan(
                    "queue wait", kind: .internal, context: parent.child(), parentSpanID: parent.spanID, start: job.enqueuedAt,
                    attributes: ["pingvas.pool": .string(dispatched.pool), "pingvas.plan": .string(job.plan.rawValue)]
                ).end()
            }
            await Tracing.withSpan("job \(job.request.model)", kind: .consumer, attributes: [
                "pingvas.job_id": .string(job.jobID.description), "pingvas.attempt": .int(Int64(job.attempt)),
                "pingvas.worker_id": .string(workerID),
            ]) { _ in
                await run(job, started: started, logger: logger)
            }
        }
    }

    private func run(_ job: JobQueued, started: ContinuousClock.Instant, logger: Logger) async {
        if await isCanceled(job.jobID) {
            logger.info("job canceled before it started")
            await finish(job, .canceled, started: started, logger: logger)
            return
        }
        if let deadline = job.deadline, deadline < Date() {
            await finish(job, .failed(code: "expired", message: "The job waited longer than its queue deadline.", retryable: false),
                         started: started, logger: logger)
            return
        }
        var stored: [UInt8]?
        if let id = job.request.initImageID {
            switch await storedInitImage(id, of: job) {
            case .success(let bytes): stored = bytes
            case .failure(let error):
                await finish(job, .failed(code: error.code.rawValue, message: error.message, retryable: error.retryable), started: started, logger: logger)
                return
            }
        }
        let engine: any ImageEngine
        let engineJob: EngineJob
        switch prepare(job, storedInitImage: stored) {
        case .success(let prepared):
            (engine, engineJob) = prepared
        case .failure(let error):
            logger.warning("job cannot run here", metadata: ["code": "\(error.code.rawValue)", "error": "\(error.message)"])
            await finish(job, .failed(code: error.code.rawValue, message: UserFacingText.withoutFilePaths(error.message), retryable: error.retryable),
                         started: started, logger: logger)
            return
        }

        let startedMessage = JobStarted(jobID: job.jobID, attempt: job.attempt, workerID: workerID, startedAt: Date())
        guard await sendStarted(startedMessage, logger: logger) else { return }  // Redis is away: the lease hands it on
        status.begin(job.jobID)
        defer { status.end() }
        logger.info("job started", metadata: ["model": "\(job.request.model)", "engine": "\(engine.id)"])

        let outcome: JobOutcome
        let generated = await Tracing.withSpan("engine \(engine.id)", attributes: [
            "pingvas.model": .string(job.request.model), "pingvas.steps": .int(Int64(job.request.steps)),
            "pingvas.images": .int(Int64(job.request.batchSize)),
        ]) { span in
            let result = await generate(engine, engineJob, job: job, logger: logger)
            if case .failure(let error) = result { span.fail(message: error.code.rawValue) }
            return result
        }
        switch generated {
        case .success(let images):
            do {
                outcome = .succeeded(images: try await Tracing.withSpan("store images") { _ in
                    try await store(images, engine: engine, engineJob: engineJob, job: job)
                })
            } catch {
                logger.error("storing images failed", metadata: ["error": "\(error)"])
                outcome = .failed(code: "storage_error", message: "The images could not be stored.", retryable: true)
            }
        case .failure(let error) where error.code == .canceled:
            switch engineJob.cancellation.reason {
            case .requested, nil:
                outcome = .canceled
            case .timeout:
                outcome = .failed(code: "timeout", message: "The job ran longer than its run deadline.", retryable: false)
            case .shutdown:
                logger.notice("shutting down: job handed back to the queue for another worker")
                _ = try? await queue.release(job.jobID, worker: workerID)
                WorkerMetrics.jobFinished(outcome: "handed_back", duration: ContinuousClock.now - started)
                return
            case .leaseLost:
                logger.warning("lease lost: another worker has taken the job over; dropped without a report")
                WorkerMetrics.jobFinished(outcome: "lease_lost", duration: ContinuousClock.now - started)
                return
            }
        case .failure(let error):
            logger.warning("engine failed", metadata: ["code": "\(error.code.rawValue)", "error": "\(error.message)"])
            outcome = .failed(code: error.code.rawValue, message: UserFacingText.withoutFilePaths(error.message), retryable: retryable(error, attempt: job.attempt))
        }
        await finish(job, outcome, started: started, logger: logger)
    }

    /// Reports the outcome and forgets the job in one step; retried briefly while Redis is away
    /// (afterwards the lease runs out and the job is requeued: its effects are idempotent).
    private func finish(_ job: JobQueued, _ outcome: JobOutcome, started: ContinuousClock.Instant, logger: Logger) async {
        let finished = JobFinished(jobID: job.jobID, attempt: job.attempt, workerID: workerID, outcome: outcome)
        guard let bytes = try? WireCodec.encode(finished) else { return }
        let envelope = String(decoding: bytes, as: UTF8.self)
        let ran: Duration? = outcome.status == .succeeded ? ContinuousClock.now - started : nil
        let complete = { try await queue.complete(job.jobID, worker: workerID, result: envelope, ran: ran) }
        guard let mine = await retrying("result not sent", logger: logger, complete) else { return }
        if !mine { logger.notice("the job was no longer this worker's; result sent anyway") }
        WorkerMetrics.jobFinished(outcome: outcome.status.rawValue, duration: ContinuousClock.now - started)
        if case .failed(let code, _, _) = outcome { WorkerMetrics.failed(code: code) }
        logger.info("job finished", metadata: ["outcome": "\(outcome.status.rawValue)"])
    }

    /// Keeps an unreadable job on `pingvas:queue:dead` with the reason and forgets it.
    private func deadLetter(_ job: DispatchedJob, reason: String, started: ContinuousClock.Instant) async {
        logger.error("unreadable job dead-lettered", metadata: ["pool": "\(job.pool)", "job_id": "\(job.jobID)", "reason": "\(reason)"])
        do {
            _ = try await redis.xadd(keys.queueDeadLetter, maxLength: PipelineKeys.streamMaxLength, fields: [
                ("m", job.envelope), ("reason", reason), ("pool", job.pool), ("job_id", job.jobID.description), ("worker_id", workerID),
            ])
            try await queue.complete(job.jobID, worker: workerID, result: nil)
        } catch {
            logger.warning("dead-letter write failed; the job stays leased", metadata: ["error": "\(error)"])
            return
        }
        WorkerMetrics.jobFinished(outcome: "dead_lettered", duration: ContinuousClock.now - started)
    }

    /// `XADD` of `job.started` to the results stream, retried briefly; false when Redis stays unreachable.
    private func sendStarted(_ payload: JobStarted, logger: Logger) async -> Bool {
        let sent: String? = await retrying("job.started not sent", logger: logger) {
            let bytes = try WireCodec.encode(payload)
            return try await redis.xadd(keys.results, maxLength: PipelineKeys.streamMaxLength, fields: [("m", String(decoding: bytes, as: UTF8.self))])
        }
        return sent != nil
    }

    /// `body`, tried three times 0.5 s and 1 s apart while Redis does not answer; nil when it never did.
    private func retrying<T: Sendable>(_ failure: String, logger: Logger, _ body: () async throws -> T) async -> T? {
        for attempt in 1...3 {
            do {
                return try await body()
            } catch {
                logger.warning("\(failure)", metadata: ["attempt": "\(attempt)", "error": "\(error)"])
                if attempt < 3 { try? await Task.sleep(for: .milliseconds(500 * attempt)) }
            }
        }
        return nil
    }

    /// Whether generation may try `error` again: its code says so, and a job that crashed the engine
    /// only while it has deliveries left (`attempt` counts every delivery and retry so far).
    func retryable(_ error: EngineError, attempt: Int) -> Bool {
        error.code == .engineCrashed ? attempt < maxDeliveries : error.retryable
    }

    func isCanceled(_ job: JobID) async -> Bool {
        (try? await redis.send("EXISTS", keys.canceled(job)).int) ?? 0 > 0
    }
}
