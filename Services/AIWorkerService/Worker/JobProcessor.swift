import ServiceKit
import Core
import Foundation
import Logging
import RedisClient

/// Handles one queue message from start to acknowledgement (docs/pipeline.md, "Job life" step 3).
///
/// Never throws: a malformed message is dead-lettered, a failing job is reported as failed, and only
/// when Redis itself is unreachable (or the worker hands the job back on shutdown) does the message
/// stay unacknowledged, to be redelivered after the lease.
struct JobProcessor: Sendable {
    let redis: RedisPool
    let keys: PipelineKeys
    let workerID: String
    let catalog: ModelCatalog
    let engines: [String: any ImageEngine]
    let storage: any ImageStorage
    let modelsDir: String
    let status: WorkerStatus
    let lease: Duration
    let shutdownGrace: Duration
    let logger: Logger
    /// PNG encoding is CPU work: off the cooperative pool.
    let encoder = BlockingExecutor(label: "ai-worker.png")

    func process(_ message: RedisStreamMessage) async {
        let started = ContinuousClock.now
        guard let raw = message.fields["m"] else {
            await deadLetter(message, reason: "no field m", started: started)
            return
        }
        let envelope: Envelope<JobQueued>
        do {
            envelope = try WireCodec.decode(JobQueued.self, from: Array(raw.utf8))
        } catch {
            await deadLetter(message, reason: error.description, started: started)
            return
        }
        let job = envelope.data
        var logger = self.logger
        logger[metadataKey: "job_id"] = "\(job.jobID)"
        logger[metadataKey: "user_id"] = "\(job.userID)"
        logger[metadataKey: "attempt"] = "\(job.attempt)"
        if let traceparent = envelope.traceparent { logger[metadataKey: "trace_id"] = "\(traceparent)" }
        await RequestContext.$traceparent.withValue(envelope.traceparent) {
            await run(job, message: message, started: started, logger: logger)
        }
    }

    private func run(_ job: JobQueued, message: RedisStreamMessage, started: ContinuousClock.Instant, logger: Logger) async {
        if await isCanceled(job.jobID) {
            logger.info("job canceled before it started")
            await finish(job, .canceled, message: message, started: started, logger: logger)
            return
        }
        if let deadline = job.deadline, deadline < Date() {
            await finish(job, .failed(code: "deadline_exceeded", message: "The job's deadline passed before it started.", retryable: false),
                         message: message, started: started, logger: logger)
            return
        }
        let engine: any ImageEngine
        let engineJob: EngineJob
        switch prepare(job) {
        case .success(let prepared):
            (engine, engineJob) = prepared
        case .failure(let error):
            logger.warning("job cannot run here", metadata: ["code": "\(error.code.rawValue)", "error": "\(error.message)"])
            await finish(job, .failed(code: error.code.rawValue, message: error.message, retryable: error.retryable),
                         message: message, started: started, logger: logger)
            return
        }

        let startedMessage = JobStarted(jobID: job.jobID, attempt: job.attempt, workerID: workerID, startedAt: Date())
        guard await sendResult(startedMessage, logger: logger) else { return }  // Redis is away: the lease hands it on
        status.begin(job.jobID)
        defer { status.end() }
        logger.info("job started", metadata: ["model": "\(job.request.model)", "engine": "\(engine.id)"])

        let outcome: JobOutcome
        switch await generate(engine, engineJob, job: job, message: message, logger: logger) {
        case .success(let images):
            do {
                outcome = .succeeded(images: try await store(images, engine: engine, engineJob: engineJob, job: job))
            } catch {
                logger.error("storing images failed", metadata: ["error": "\(error)"])
                outcome = .failed(code: "storage_error", message: "The images could not be stored.", retryable: true)
            }
        case .failure(let error) where error.code == .canceled:
            if engineJob.cancellation.reason == .requested {
                outcome = .canceled
            } else {
                logger.notice("shutting down: job handed back unacknowledged for another worker")
                WorkerMetrics.jobFinished(outcome: "handed_back", duration: ContinuousClock.now - started)
                return
            }
        case .failure(let error):
            logger.warning("engine failed", metadata: ["code": "\(error.code.rawValue)", "error": "\(error.message)"])
            outcome = .failed(code: error.code.rawValue, message: error.message, retryable: error.retryable)
        }
        await finish(job, outcome, message: message, started: started, logger: logger)
    }

    /// Reports the outcome, then acknowledges; without the report the message stays pending.
    private func finish(_ job: JobQueued, _ outcome: JobOutcome, message: RedisStreamMessage, started: ContinuousClock.Instant, logger: Logger) async {
        let finished = JobFinished(jobID: job.jobID, attempt: job.attempt, workerID: workerID, outcome: outcome)
        guard await sendResult(finished, logger: logger) else { return }
        await acknowledge(message, logger: logger)
        WorkerMetrics.jobFinished(outcome: outcome.status.rawValue, duration: ContinuousClock.now - started)
        logger.info("job finished", metadata: ["outcome": "\(outcome.status.rawValue)"])
    }

    /// Moves an unreadable message to `pingvas:queue:dead` with the reason, then acknowledges it.
    private func deadLetter(_ message: RedisStreamMessage, reason: String, started: ContinuousClock.Instant) async {
        logger.error("malformed job message dead-lettered", metadata: ["stream": "\(message.stream)", "message_id": "\(message.id)", "reason": "\(reason)"])
        do {
            _ = try await redis.xadd(keys.queueDeadLetter, maxLength: PipelineKeys.streamMaxLength, fields: [
                ("m", message.fields["m"] ?? ""), ("reason", reason), ("stream", message.stream), ("message_id", message.id), ("worker_id", workerID),
            ])
        } catch {
            logger.warning("dead-letter write failed; message stays pending", metadata: ["error": "\(error)"])
            return
        }
        await acknowledge(message, logger: logger)
        WorkerMetrics.jobFinished(outcome: "dead_lettered", duration: ContinuousClock.now - started)
    }

    private func acknowledge(_ message: RedisStreamMessage, logger: Logger) async {
        do {
            try await redis.xack(message.stream, group: PipelineKeys.workerGroup, ids: [message.id])
        } catch {
            logger.warning("XACK failed; the job may be redelivered (its effects are idempotent)", metadata: ["error": "\(error)"])
        }
    }

    /// `XADD pingvas:results`, retried briefly; false when Redis stays unreachable.
    private func sendResult(_ payload: some WireMessage, logger: Logger) async -> Bool {
        for attempt in 1...3 {
            do {
                let bytes = try WireCodec.encode(payload)
                _ = try await redis.xadd(keys.results, maxLength: PipelineKeys.streamMaxLength, fields: [("m", String(decoding: bytes, as: UTF8.self))])
                return true
            } catch {
                logger.warning("result not sent", metadata: ["attempt": "\(attempt)", "error": "\(error)"])
                if attempt < 3 { try? await Task.sleep(for: .milliseconds(500 * attempt)) }
            }
        }
        return false
    }

    func isCanceled(_ job: JobID) async -> Bool {
        (try? await redis.send("EXISTS", keys.canceled(job)).int) ?? 0 > 0
    }
}
