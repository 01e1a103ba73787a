import Core
import Foundation
import Logging
import RedisClient
import ServiceKit
import ServiceLifecycle

/// Makes every accepted job finish, whatever failed around it (docs/pipeline.md, "Failures").
///
/// PostgreSQL is the truth about jobs; Redis holds the queue. Every `interval` the reconciler
/// 1. requeues jobs whose worker's lease ran out (workers do it too) and fails `worker_lost` the
///    ones out of deliveries, releasing their credits (they stay on the pool's dead list);
/// 2. fails `expired` the queued jobs past their queue deadline, and `timeout` the running ones
///    past their run deadline (their worker is told to stop through the cancel key);
/// 3. enqueues again the unfinished jobs Redis no longer holds (restart without persistence,
///    `FLUSHALL`, a failover that lost the last writes): seen missing in two walks in a row, so a
///    job whose result is being applied is never taken for lost. A walk goes over every unfinished
///    job, `pageSize` per pass, so one pass per interval when they fit in a page.
/// Every change is conditional on the job's state, so replicas reconciling together change a job once.
struct JobReconciler: Service {
    let jobs: any JobRepository
    let queue: RedisJobQueue
    let settler: CreditSettler
    let notifier: JobNotifier
    let signal: OutboxSignal
    let interval: Duration
    let lostJobGrace: Duration
    let maxDeliveries: Int
    let ready: @Sendable () -> Bool
    let logger: Logger

    /// How long past its run deadline a running job may go before generation fails it itself (the
    /// worker enforces the deadline first).
    static let runDeadlineGrace = Duration.seconds(30)

    var keys: PipelineKeys { queue.keys }

    /// Unfinished jobs checked against Redis per pass; a longer backlog is walked over several passes.
    var pageSize = 500

    /// Where the walk over unfinished jobs is, and what it found missing.
    struct Walk: Sendable {
        /// The next page starts after this (nil: from the oldest).
        var cursor: UnfinishedCursor?
        /// Missing when last looked at (the walk before): missing again now means lost.
        var suspects: Set<JobID> = []
        /// Missing in the walk under way, looked at once so far.
        var missing: Set<JobID> = []
    }

    func run() async throws {
        guard await Background.waitUntil(ready) else { return }
        var walk = Walk()
        while !Background.shouldStop {
            do {
                try await pass(&walk)
            } catch {
                logger.warning("reconciliation pass failed; retrying", metadata: ["error": "\(error)"])
            }
            await Background.pause(interval)
        }
    }

    /// One pass: reclaims, deadlines, and the next page of the walk over unfinished jobs.
    func pass(_ walk: inout Walk) async throws {
        for pool in try await queue.pools() {
            let (_, dead) = try await queue.reclaim(pool: pool, maxDeliveries: maxDeliveries)
            for id in dead { try await fail(id, .workerLost) }
        }
        for job in try await jobs.expired(now: .now, limit: 100) {
            // A job a worker took meanwhile is no longer waiting: its run deadline applies instead.
            if try await queue.remove(job.id) != .running { try await fail(job.id, .expired, onlyQueued: true) }
        }
        for job in try await jobs.overran(now: .now, grace: Self.runDeadlineGrace, limit: 100) {
            _ = try await queue.redis.send("SET", keys.canceled(job.id), "1", "EX", "86400")
            try await fail(job.id, .timeout)
        }
        // Ids only (the job is read again if it has to be requeued), a page at a time: the oldest
        // page alone would leave a lost job behind a long backlog waiting until the backlog drains.
        let page = try await jobs.unfinished(changedBefore: Date.now.addingTimeInterval(-lostJobGrace.inSeconds), after: walk.cursor, limit: pageSize)
        let states = try await queue.states(page.map(\.id))
        for candidate in page {
            switch states[candidate.id] {
            case nil:
                if walk.suspects.contains(candidate.id) { try await requeueLost(candidate.id) } else { walk.missing.insert(candidate.id) }
            case "dead": try await fail(candidate.id, .workerLost)  // reclaimed by a worker, or this pass was cut short before
            default: break
            }
        }
        if page.count < pageSize {
            // The walk is through: what it found missing is suspect in the next one.
            walk = Walk(cursor: nil, suspects: walk.missing)
        } else {
            walk.cursor = page.last
        }
    }

    private func requeueLost(_ id: JobID) async throws {
        let keys = keys
        guard let job = try await jobs.requeueLost(id: id, changedBefore: Date.now.addingTimeInterval(-lostJobGrace.inSeconds), queued: {
            try $0.queuedMessage(attempt: $0.attempt, notBefore: nil, keys: keys)
        }) else { return }
        signal.wake()
        logger.notice("Redis no longer held an unfinished job: enqueued again", metadata: ["job_id": "\(id)", "attempt": "\(job.attempt)"])
        await notifier.statusChanged(job)
    }

    /// Fails an unfinished job with `error` and gives its credits back; nothing when it finished meanwhile.
    private func fail(_ id: JobID, _ error: JobError, onlyQueued: Bool = false) async throws {
        let keys = keys
        let change = JobCompletion(status: .failed, error: error, settlement: .release)
        guard let job = try await jobs.finish(id: id, change: change, attempt: nil, owner: nil, onlyQueued: onlyQueued, completed: {
            try $0.completedMessage(keys: keys, traceparent: nil)
        }) else { return }
        signal.wake()
        logger.warning("job failed", metadata: ["job_id": "\(id)", "code": "\(error.code)"])
        await notifier.statusChanged(job)
        await settler.settle(id, .release)
    }
}
