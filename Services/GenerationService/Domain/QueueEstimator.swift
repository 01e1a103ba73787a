import Core
import Foundation
import Logging
import ServiceKit
import Synchronization

/// Where a queued job stands and when it should start and finish; every field may be unknown.
struct JobEstimate: Sendable, Equatable {
    /// Jobs the dispatcher will start before this one (queued jobs only).
    var position: Int?
    var startAt: Date?
    var finishAt: Date?
}

/// Queue positions and ETAs from the job queue itself (`RedisJobQueue.snapshot`): the order the
/// dispatcher will really serve, the measured run times, and the pool's live workers.
///
/// Snapshots, timings and worker counts are cached briefly (`snapshotAge`, a few seconds), so a page
/// of twenty jobs or a burst of polls costs one script run per pool. When Redis cannot be reached the
/// estimate is unknown (nulls), never an error.
struct QueueEstimator: Sendable {
    let queue: RedisJobQueue
    let registry: any WorkerRegistry
    let logger: Logger
    var snapshotAge: Duration = .milliseconds(250)
    var timingsAge: Duration = .seconds(5)
    var workersAge: Duration = .seconds(2)

    private final class Cache: Sendable {
        struct State {
            /// `current`: no job was enqueued by this process since it was taken.
            var snapshots: [String: (at: ContinuousClock.Instant, snapshot: QueueSnapshot, current: Bool)] = [:]
            var timings: (at: ContinuousClock.Instant, value: JobTimings)?
            var workers: (at: ContinuousClock.Instant, perPool: [String: Int])?
        }
        let state = Mutex(State())
    }
    private let cache = Cache()

    init(queue: RedisJobQueue, registry: any WorkerRegistry, logger: Logger) {
        self.queue = queue
        self.registry = registry
        self.logger = logger
    }

    /// Estimates for `jobs` (queued and running ones; others get none), one snapshot per pool.
    func estimates(for jobs: [Job]) async -> [JobID: JobEstimate] {
        var result: [JobID: JobEstimate] = [:]
        let relevant = jobs.filter { $0.status == .queued || $0.status == .running }
        guard !relevant.isEmpty, let timings = await timings() else { return result }
        for pool in Set(relevant.map(\.queue)) {
            guard var snapshot = await self.snapshot(pool: pool) else { continue }
            // A cached snapshot taken before a queued job was created cannot list it: take a fresh one.
            if relevant.contains(where: { $0.queue == pool && $0.status == .queued && $0.createdAt >= snapshot.takenAt }),
               let fresh = await self.snapshot(pool: pool, fresh: true) {
                snapshot = fresh
            }
            let workers = await liveWorkers(pool: pool)
            let estimates = snapshot.estimates(workers: workers, timings: timings)
            for job in relevant where job.queue == pool {
                if job.status == .running {
                    let run = timings.seconds(for: Self.entry(job, since: job.startedAt ?? snapshot.takenAt))
                    result[job.id] = JobEstimate(finishAt: max(snapshot.takenAt, (job.startedAt ?? snapshot.takenAt).addingTimeInterval(run)))
                } else if let found = estimates.first(where: { $0.jobID == job.id }) {
                    result[job.id] = JobEstimate(position: found.position, startAt: found.startAt, finishAt: found.finishAt)
                } else if let imagined = await imagine(job.userID, plan: job.plan, pool: pool, request: job.request, estimate: nil) {
                    // Not in the queue yet (the relay is about to send it) or waiting out a retry backoff.
                    result[job.id] = imagined
                }
            }
        }
        return result
    }

    func estimate(for job: Job) async -> JobEstimate? {
        await estimates(for: [job])[job.id]
    }

    /// Where a job of `user` on `plan` submitted now would stand. The position is counted fresh (one
    /// short script, `RedisJobQueue.position`: it changes with every job); the start and finish come
    /// from the cached snapshot with the job put in at that position, so a burst of submissions costs
    /// one full snapshot per `snapshotAge`, not one each. Beyond the end of a full snapshot (a queue
    /// longer than it lists) the position is known and the times are not.
    func imagine(_ user: UserID, plan: Plan, pool: String, request: JobRequest, estimate: Double?) async -> JobEstimate? {
        let position: Int
        do {
            position = try await queue.position(pool: pool, imagining: (user, plan))
        } catch {
            logger.debug("queue position unavailable", metadata: ["error": "\(error)"])
            return nil
        }
        guard let timings = await timings(), var snapshot = await snapshot(pool: pool, stale: true) else { return JobEstimate(position: position) }
        // The snapshot may be a moment old: a queue that grew since puts the job at the end of it.
        let full = snapshot.waiting.count >= QueueSnapshot.defaultLimit
        guard position < snapshot.waiting.count || !full else { return JobEstimate(position: position) }
        let at = min(position, snapshot.waiting.count)
        snapshot.waiting = Array(snapshot.waiting.prefix(at)) + [QueueSnapshot.Entry(
            jobID: nil, model: request.model, work: request.work, size: "\(request.width)x\(request.height)",
            estimate: estimate ?? 0, since: snapshot.takenAt
        )]
        let mine = snapshot.estimates(workers: await liveWorkers(pool: pool), timings: timings)[at]
        return JobEstimate(position: position, startAt: mine.startAt, finishAt: mine.finishAt)
    }

    private static func entry(_ job: Job, since: Date) -> QueueSnapshot.Entry {
        QueueSnapshot.Entry(
            jobID: job.id, model: job.request.model, work: job.request.work, size: "\(job.request.width)x\(job.request.height)",
            estimate: 0, since: since
        )
    }

    /// This process enqueued a job on `pool`: positions read back must see it, so the cached snapshot
    /// serves only submissions' ETAs (which tolerate `snapshotAge`) until the next one is taken.
    func enqueued(pool: String) {
        cache.state.withLock { $0.snapshots[pool]?.current = false }
    }

    /// The pool's snapshot, cached for `snapshotAge`; `stale`: also one taken before this process
    /// last enqueued a job there (a submission's ETA; a read-back wants it current).
    private func snapshot(pool: String, fresh: Bool = false, stale: Bool = false) async -> QueueSnapshot? {
        let now = ContinuousClock.now
        if !fresh, let cached = cache.state.withLock({ $0.snapshots[pool] }), now - cached.at < snapshotAge, cached.current || stale {
            return cached.snapshot
        }
        do {
            let snapshot = try await queue.snapshot(pool: pool)
            cache.state.withLock { $0.snapshots[pool] = (now, snapshot, true) }
            return snapshot
        } catch {
            logger.debug("queue snapshot unavailable", metadata: ["pool": "\(pool)", "error": "\(error)"])
            return nil
        }
    }

    private func timings() async -> JobTimings? {
        let now = ContinuousClock.now
        if let cached = cache.state.withLock({ $0.timings }), now - cached.at < timingsAge { return cached.value }
        do {
            let value = JobTimings(secondsPerWork: try await queue.timings())
            cache.state.withLock { $0.timings = (now, value) }
            return value
        } catch {
            logger.debug("job timings unavailable", metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// Live workers serving `pool` (at least the one a scaled-to-zero pool will get).
    private func liveWorkers(pool: String) async -> Int {
        let now = ContinuousClock.now
        if let cached = cache.state.withLock({ $0.workers }), now - cached.at < workersAge { return max(1, cached.perPool[pool] ?? 0) }
        var perPool: [String: Int] = [:]
        if let live = try? await registry.liveWorkers() {
            for worker in live { for queue in Set(worker.queues) { perPool[queue, default: 0] += 1 } }
        }
        cache.state.withLock { $0.workers = (now, perPool) }
        return max(1, perPool[pool] ?? 0)
    }
}
