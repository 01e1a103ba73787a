package import Core
package import Foundation
package import RedisClient

/// The queue between generation and the workers: per pool, per plan class, per user, with leases.
///
/// generation enqueues (through its outbox relay), removes jobs that are canceled or expired, and
/// reclaims jobs whose lease ran out; workers dispatch, renew their lease while they work, and
/// complete (which puts the result on the results stream in the same step) or release on shutdown.
/// A job is *held* by Redis from enqueue until its result is in flight; PostgreSQL stays the source
/// of truth, and generation's reconciler enqueues again what Redis no longer holds.
package struct RedisJobQueue: Sendable {
    package let redis: RedisPool
    package let keys: PipelineKeys
    /// Weights, caps and affinity bounds per plan, written with each job at enqueue.
    package let policy: SchedulingPolicy
    /// `fair` (classes, shares, caps, affinity) or `fifo` (the baseline, for comparison only).
    package let mode: DispatchMode

    package init(redis: RedisPool, keys: PipelineKeys, policy: SchedulingPolicy = .default, mode: DispatchMode = .fair) {
        self.redis = redis
        self.keys = keys
        self.policy = policy
        self.mode = mode
    }

    /// How `dispatch` picks the next job.
    package enum DispatchMode: String, Sendable {
        case fair, fifo
    }

    var prefix: String { keys.jobQueue }

    /// Adds a job (waiting, or delayed until `due`); false when the queue already holds it.
    /// `estimate` is what the router expects the job to run, in seconds (for ETAs until measured).
    @discardableResult
    package func enqueue(_ job: JobQueued, envelope: String, due: Date? = nil, estimate: Double? = nil) async throws -> Bool {
        let dueMilliseconds = due.map { Int64($0.timeIntervalSince1970 * 1000) } ?? 0
        let planClass = policy[job.plan]
        let reply = try await redis.evalsha(JobQueueScripts.enqueue, keys: [], arguments: [
            prefix, job.queue, job.jobID.description, job.userID.description, String(job.priority),
            String(planClass.maxRunning), envelope, String(job.attempt), job.request.model, String(dueMilliseconds),
            String(planClass.weight), String(planClass.affinityMilliseconds), String(job.request.work),
            "\(job.request.width)x\(job.request.height)", String(format: "%.3f", estimate ?? 0),
        ])
        return reply.int == 1
    }

    /// The next job for a worker serving `pools` (tried in that order), leased for `lease`; nil when
    /// none may start now. `warmModels`: the models the worker has loaded, preferred within each
    /// job's affinity bound.
    package func dispatch(pools: [String], worker: String, lease: Duration, warmModels: [String] = []) async throws -> DispatchedJob? {
        guard !pools.isEmpty else { return nil }
        let reply = try await redis.evalsha(
            JobQueueScripts.dispatch, keys: [],
            arguments: [prefix, worker, String(lease.milliseconds), mode.rawValue, warmModels.joined(separator: ",")] + pools
        )
        guard let fields = reply.array, fields.count == 4, let pool = fields[0].string, let rawID = fields[1].string,
              let id = JobID(rawID), let envelope = fields[2].string, let attempt = fields[3].string.flatMap({ Int($0) })
        else { return nil }
        return DispatchedJob(pool: pool, jobID: id, envelope: envelope, attempt: attempt)
    }

    /// Forgets which models `worker` has loaded (it stops): other workers no longer leave jobs to it.
    package func leave(pools: [String], worker: String) async throws {
        guard !pools.isEmpty else { return }
        _ = try await redis.pipeline(pools.map { ["HDEL", "\(prefix):\($0):warm", worker] })
    }

    /// Extends the worker's lease on `job`; false when the job is no longer the worker's.
    package func renew(_ job: JobID, worker: String, lease: Duration) async throws -> Bool {
        try await redis.evalsha(
            JobQueueScripts.renew, keys: [], arguments: [prefix, job.description, worker, String(lease.milliseconds)]
        ).int == 1
    }

    /// Forgets the worker's job and puts `result` (an envelope) on the results stream, atomically.
    /// `ran`: how long a job that succeeded took, for the measured timings ETAs use.
    /// Returns false when the job was no longer the worker's (the result is still sent).
    @discardableResult
    package func complete(_ job: JobID, worker: String, result: String?, ran: Duration? = nil) async throws -> Bool {
        try await redis.evalsha(JobQueueScripts.complete, keys: [], arguments: [
            prefix, job.description, worker, keys.results, result ?? "", String(PipelineKeys.streamMaxLength), "3600",
            ran.map { String(format: "%.3f", $0.inSeconds) } ?? "",
        ]).int == 1
    }

    /// Hands a job back without counting the delivery (graceful shutdown).
    @discardableResult
    package func release(_ job: JobID, worker: String) async throws -> Bool {
        try await redis.evalsha(JobQueueScripts.release, keys: [], arguments: [prefix, job.description, worker]).int == 1
    }

    /// Requeues the jobs of `pool` whose lease ran out; those delivered `maxDeliveries` times are dead.
    package func reclaim(pool: String, maxDeliveries: Int) async throws -> (requeued: [JobID], dead: [JobID]) {
        let reply = try await redis.evalsha(JobQueueScripts.reclaim, keys: [], arguments: [prefix, pool, String(maxDeliveries)])
        func ids(_ index: Int) -> [JobID] {
            guard let list = reply.array, list.indices.contains(index) else { return [] }
            return (list[index].array ?? []).compactMap { $0.string.flatMap(JobID.init) }
        }
        return (ids(0), ids(1))
    }

    /// Takes a job that has not started out of the queue.
    package func remove(_ job: JobID) async throws -> RemoveOutcome {
        let reply = try await redis.evalsha(JobQueueScripts.remove, keys: [], arguments: [prefix, job.description])
        return RemoveOutcome(rawValue: Int(reply.int ?? 0)) ?? .unknown
    }

    /// Where Redis holds each of `jobs`: `waiting`, `delayed`, `active`, `dead`, or `done` (finished,
    /// its result in flight); a job Redis does not hold has no entry.
    package func states(_ jobs: [JobID]) async throws -> [JobID: String] {
        guard !jobs.isEmpty else { return [:] }
        let replies = try await redis.pipeline(jobs.flatMap { job -> [[String]] in
            [["HGET", "\(prefix):job:\(job)", "state"], ["EXISTS", "\(prefix):done:\(job)"]]
        })
        var states: [JobID: String] = [:]
        for (index, job) in jobs.enumerated() where replies.indices.contains(2 * index + 1) {
            if let state = replies[2 * index].string {
                states[job] = state
            } else if (replies[2 * index + 1].int ?? 0) > 0 {
                states[job] = "done"
            }
        }
        return states
    }

    /// Every pool a job was ever enqueued to.
    package func pools() async throws -> [String] {
        (try await redis.send("SMEMBERS", "\(prefix):pools").array ?? []).compactMap(\.string).sorted()
    }

    /// Jobs of `pool` waiting, delayed (retry backoff) and running: what the pool's workers scale on.
    package func depth(pool: String) async throws -> QueueDepth {
        let replies = try await redis.pipeline([
            ["GET", "\(prefix):\(pool):waiting"], ["ZCARD", "\(prefix):\(pool):delayed"], ["ZCARD", "\(prefix):\(pool):active"],
        ])
        func number(_ index: Int) -> Int {
            guard replies.indices.contains(index) else { return 0 }
            return replies[index].int.map(Int.init) ?? replies[index].string.flatMap { Int($0) } ?? 0
        }
        return QueueDepth(waiting: max(0, number(0)), delayed: number(1), running: number(2))
    }

    /// Waits up to `timeout` for a job to be enqueued (or requeued) on one of `pools`.
    package func waitForWork(pools: [String], timeout: Duration) async throws {
        let seconds = String(format: "%.3f", Double(timeout.milliseconds) / 1000)
        _ = try await redis.send(["BLPOP"] + pools.map { "\(prefix):\($0):wake" } + [seconds])
    }

    /// The dead jobs of `pool`, newest first: id, deliveries and when the last lease ran out.
    package func dead(pool: String, limit: Int = 100) async throws -> [DeadJob] {
        let ids = (try await redis.send("ZREVRANGE", "\(prefix):\(pool):dead", "0", String(max(0, limit - 1))).array ?? [])
            .compactMap { $0.string.flatMap(JobID.init) }
        guard !ids.isEmpty else { return [] }
        let replies = try await redis.pipeline(ids.map { ["HMGET", "\(prefix):job:\($0)", "user", "deliveries", "died", "model"] })
        return zip(ids, replies).compactMap { id, reply in
            guard let fields = reply.array, fields.count == 4, let user = fields[0].string.flatMap(UserID.init) else { return nil }
            let died = fields[2].string.flatMap(Double.init).map { Date(timeIntervalSince1970: $0 / 1000) }
            return DeadJob(
                jobID: id, pool: pool, userID: user, deliveries: fields[1].string.flatMap { Int($0) } ?? 0, diedAt: died,
                model: fields[3].string ?? ""
            )
        }
    }

    /// What `remove` found.
    package enum RemoveOutcome: Int, Sendable {
        case unknown = 0, removed = 1, running = 2, dead = 3
    }
}

/// How many jobs a pool has, by state.
package struct QueueDepth: Sendable, Equatable {
    package var waiting: Int
    package var delayed: Int
    package var running: Int
    /// Every job the pool's workers have to serve.
    package var total: Int { waiting + delayed + running }
}

/// A job leased to a worker by `RedisJobQueue.dispatch`.
package struct DispatchedJob: Sendable, Equatable {
    package var pool: String
    package var jobID: JobID
    /// The `JobQueued` envelope generation wrote.
    package var envelope: String
    /// This delivery's attempt number: the enqueued attempt plus earlier deliveries.
    package var attempt: Int
}

/// A job that exhausted its deliveries.
package struct DeadJob: Sendable, Equatable {
    package var jobID: JobID
    package var pool: String
    package var userID: UserID
    package var deliveries: Int
    package var diedAt: Date?
    package var model: String
}

extension Duration {
    /// Whole milliseconds, at least 1.
    package var milliseconds: Int64 {
        max(1, components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000)
    }
}
