import Core
import Foundation
import Logging
import RedisClient
import ServiceKit
import ServiceLifecycle

/// Applies the workers' `JobStarted` / `JobFinished` from the results stream (group `generation`).
///
/// Each result is applied once per `(job_id, attempt)` by a conditional update; the status change,
/// its `GenerationCompleted` outbox row and the pending settlement commit together, then the change is
/// published on the job's channel, the message acknowledged and the hold captured or released.
/// Reading, claiming what a dead replica left pending longer than the lease, and dead-lettering
/// unreadable messages are `EventStreamReader`'s; a second loop finishes settlements that could not
/// be done at once.
struct ResultsConsumer: Service {
    let reader: EventStreamReader
    let jobs: any JobRepository
    let settler: CreditSettler
    let notifier: JobNotifier
    let keys: PipelineKeys
    let retries: RetryPolicy
    let signal: OutboxSignal
    let ready: @Sendable () -> Bool
    let logger: Logger
    /// Records a succeeded job's images before it reads succeeded (nil: only the event does).
    let gallery: (any GalleryRecorder)?

    static let settleInterval = Duration.seconds(2)

    init(
        redis: RedisPool, keys: PipelineKeys, jobs: any JobRepository, settler: CreditSettler, notifier: JobNotifier, lease: Duration,
        retries: RetryPolicy, signal: OutboxSignal, gallery: (any GalleryRecorder)? = nil, ready: @escaping @Sendable () -> Bool,
        logger: Logger
    ) {
        self.gallery = gallery
        self.reader = EventStreamReader(
            redis: redis, stream: keys.results, group: PipelineKeys.resultsGroup,
            consumer: "\(ServiceConfiguration.instanceName)-\(UUID().uuidString.prefix(8))", lease: lease,
            deadLetterStream: keys.eventsDeadLetter, ready: ready, logger: logger
        )
        self.jobs = jobs
        self.settler = settler
        self.notifier = notifier
        self.keys = keys
        self.retries = retries
        self.signal = signal
        self.ready = ready
        self.logger = logger
    }

    func run() async throws {
        guard await Background.waitUntil(ready) else { return }
        await withDiscardingTaskGroup { group in
            group.addTask { await reader.run { messages in for message in messages { await handle(message) } } }
            group.addTask { await settleLoop() }
        }
    }

    private func settleLoop() async {
        while !Background.shouldStop {
            await Background.pause(Self.settleInterval)
            do {
                _ = try await settler.settlePending()
            } catch {
                logger.warning("could not list unsettled jobs", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Applies one message, retrying while the database is unavailable, then acknowledges it.
    private func handle(_ message: RedisStreamMessage) async {
        // The worker's span is the parent: the result, its settlement (a call to user) and the
        // generation.completed event (gallery) belong to the job's trace.
        let traceparent = (try? WireCodec.peek(Array((message.fields["m"] ?? "").utf8)))?.traceparent
        await RequestContext.$traceparent.withValue(traceparent) {
            await Tracing.withSpan("apply result", kind: .consumer) { _ in await handleInTrace(message) }
        }
    }

    private func handleInTrace(_ message: RedisStreamMessage) async {
        var backoff = Duration.milliseconds(100)
        var settlement: (JobID, Settlement)?
        while true {
            do {
                settlement = try await apply(message)
                break
            } catch {
                logger.warning("applying a result failed; retrying", metadata: ["entry": "\(message.id)", "error": "\(error)"])
                if Background.shouldStop { return }  // stays pending; a live consumer claims it after the lease
                await Background.pause(backoff)
                backoff = min(backoff * 2, .seconds(5))
            }
        }
        do {
            try await reader.acknowledge([message.id])
        } catch {
            // Pending again after the lease; applying twice changes nothing.
            logger.warning("XACK failed", metadata: ["entry": "\(message.id)", "error": "\(error)"])
        }
        if let (id, settlement) = settlement { await settler.settle(id, settlement) }
    }

    /// Read-your-writes: gallery records the images of a job that is about to read `succeeded`
    /// first, so whoever reads `succeeded` finds them. One try (2 s at most, and none for 30 s after
    /// a failure: `GalleryClient`); if gallery cannot be reached the job still finishes, and the
    /// `generation.completed` event records the images when gallery is back.
    private func recordImages(_ finished: JobFinished, images: [ProducedImage]) async {
        guard let gallery, let job = try? await jobs.job(id: finished.jobID), !job.status.isTerminal, job.attempt == finished.attempt else {
            return
        }
        var succeeded = job
        succeeded.status = .succeeded
        succeeded.images = images
        succeeded.finishedAt = Date()
        do {
            try await gallery.record(succeeded.completedEvent)
        } catch {
            logger.warning("gallery did not record the images first; the event will", metadata: [
                "job_id": "\(finished.jobID)", "error": "\(error)",
            ])
        }
    }

    /// The effect of one message; returns the settlement to perform once it is acknowledged.
    private func apply(_ message: RedisStreamMessage) async throws -> (JobID, Settlement)? {
        let bytes = Array((message.fields["m"] ?? "").utf8)
        let header: EnvelopeHeader
        do {
            header = try WireCodec.peek(bytes)
        } catch {
            try await reader.deadLetter(message, reason: error)
            return nil
        }
        do {
            switch header.type {
            case JobStarted.type:
                let started = try WireCodec.decode(JobStarted.self, from: bytes).data
                if let job = try await jobs.markStarted(
                    id: started.jobID, attempt: started.attempt, worker: started.workerID, at: started.startedAt
                ) {
                    await notifier.statusChanged(job)
                }
                return nil
            case JobFinished.type:
                let finished = try WireCodec.decode(JobFinished.self, from: bytes).data
                if case .failed(let code, let message, true) = finished.outcome,
                   try await retry(finished, error: JobError(code: code, message: UserFacingText.withoutFilePaths(message))) != .final {
                    return nil
                }
                let change = JobCompletion(finished.outcome)
                if case .succeeded(let images) = finished.outcome { await recordImages(finished, images: images) }
                let keys = keys
                let job = try await jobs.finish(
                    id: finished.jobID, change: change, attempt: finished.attempt, owner: nil, onlyQueued: false
                ) { job in try job.completedMessage(keys: keys, traceparent: RequestContext.traceparent ?? header.traceparent) }
                guard let job else {
                    logger.debug("result already applied or unknown job", metadata: ["job_id": "\(finished.jobID)"])
                    return nil
                }
                logger.info("job finished", metadata: ["job_id": "\(job.id)", "status": "\(job.status.rawValue)"])
                await notifier.statusChanged(job)
                return (job.id, change.settlement)
            default:
                try await reader.deadLetter(message, reason: WireCodecError.typeMismatch(expected: "job.started or job.finished", actual: header.type))
                return nil
            }
        } catch let error as WireCodecError {
            try await reader.deadLetter(message, reason: error)
            return nil
        }
    }

    /// What became of a retryable failure.
    enum RetryDecision { case retried, final, stale }

    /// Queues the next attempt of a job whose attempt failed for a passing reason, while retries are
    /// left (`final` when none are); `stale` when the job is past that attempt (this report was
    /// applied before, or another attempt took over).
    private func retry(_ finished: JobFinished, error: JobError) async throws -> RetryDecision {
        guard let job = try await jobs.job(id: finished.jobID), !job.status.isTerminal, job.attempt == finished.attempt else {
            return .stale
        }
        guard job.retries < retries.maxRetries else { return .final }
        let delay = retries.delay(retry: job.retries + 1)
        let keys = keys
        let notBefore = Date.now.addingTimeInterval(delay.inSeconds)
        guard let queued = try await jobs.retry(id: job.id, attempt: finished.attempt, error: error, queued: {
            try $0.queuedMessage(attempt: finished.attempt + 1, notBefore: notBefore, keys: keys)
        }) else { return .stale }
        signal.wake()
        logger.notice("attempt failed; retrying", metadata: [
            "job_id": "\(job.id)", "code": "\(error.code)", "retry": "\(queued.retries)", "in": "\(delay)",
        ])
        await notifier.statusChanged(queued)
        return .retried
    }
}
