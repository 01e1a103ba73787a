package import Core
package import Foundation
import RedisClient

/// A pool's queue as the dispatcher will serve it: the waiting jobs in the order they will start
/// (no arrivals assumed), and the running ones. Made by one read-only script (`order`), so it is
/// consistent; positions and ETAs are computed from it.
package struct QueueSnapshot: Sendable, Equatable {
    /// A job of the snapshot: what its run time depends on.
    package struct Entry: Sendable, Equatable {
        /// nil for the imagined job of `RedisJobQueue.snapshot(pool:imagining:)`.
        package var jobID: JobID?
        package var model: String
        /// Steps × images.
        package var work: Int
        /// `WxH`.
        package var size: String
        /// The router's estimate of the run, seconds (0: none).
        package var estimate: Double
        /// Enqueued (waiting jobs) or started (running jobs).
        package var since: Date

        package init(jobID: JobID?, model: String, work: Int, size: String, estimate: Double, since: Date) {
            self.jobID = jobID
            self.model = model
            self.work = work
            self.size = size
            self.estimate = estimate
            self.since = since
        }
    }

    package var pool: String
    /// Redis's clock when the snapshot was taken.
    package var takenAt: Date
    /// Waiting jobs in start order; the index is the queue position.
    package var waiting: [Entry]
    package var running: [Entry]
    /// Where the imagined job would start, when one was asked for.
    package var imaginedPosition: Int?
    /// Waiting jobs a snapshot lists at most (`RedisJobQueue.snapshot(pool:limit:)`).
    package static let defaultLimit = 1000

    package init(pool: String, takenAt: Date, waiting: [Entry], running: [Entry], imaginedPosition: Int? = nil) {
        self.pool = pool
        self.takenAt = takenAt
        self.waiting = waiting
        self.running = running
        self.imaginedPosition = imaginedPosition
    }

    /// Jobs that start before `job`, or nil when it is not waiting here.
    package func position(of job: JobID) -> Int? {
        waiting.firstIndex { $0.jobID == job }
    }

    /// When each waiting job should start and finish on `workers` workers (at least one), serving
    /// the jobs in order, each on the first worker free (list scheduling); run times from `timings`.
    package func estimates(workers: Int, timings: JobTimings) -> [Estimate] {
        schedule(workers: workers, timings: timings).estimates
    }

    /// How long a job added now at the end of the queue would wait to start.
    package func waitForNext(workers: Int, timings: JobTimings) -> TimeInterval {
        let free = schedule(workers: workers, timings: timings).free
        return max(0, (free.min() ?? takenAt).timeIntervalSince(takenAt))
    }

    private func schedule(workers: Int, timings: JobTimings) -> (estimates: [Estimate], free: [Date]) {
        let now = takenAt
        // When each worker is free: running jobs finish at their start plus their run time (not
        // before now); workers without a job are free now.
        var free = running.map { max(now, $0.since.addingTimeInterval(timings.seconds(for: $0))) }.sorted()
        let count = max(1, workers)
        if free.count > count { free = Array(free.prefix(count)) }
        while free.count < count { free.insert(now, at: 0) }
        var estimates: [Estimate] = []
        estimates.reserveCapacity(waiting.count)
        for (position, entry) in waiting.enumerated() {
            let slot = free.indices.min { free[$0] < free[$1] }!
            let start = free[slot]
            let finish = start.addingTimeInterval(timings.seconds(for: entry))
            free[slot] = finish
            estimates.append(Estimate(jobID: entry.jobID, position: position, startAt: start, finishAt: finish))
        }
        return (estimates, free)
    }

    /// Where a waiting job stands: jobs ahead of it, and when it should start and finish.
    package struct Estimate: Sendable, Equatable {
        package var jobID: JobID?
        package var position: Int
        package var startAt: Date
        package var finishAt: Date
    }
}

/// Measured run times: a moving average of seconds per unit of work (steps × images) per model and
/// size, which workers update with every success (`p:timing`); the router's estimate, then a default,
/// where nothing was measured yet.
package struct JobTimings: Sendable, Equatable {
    /// `<model>|<WxH>` → seconds per unit of work.
    package var secondsPerWork: [String: Double]
    /// For a job with neither a measurement nor an estimate.
    package var fallbackSeconds: Double

    package init(secondsPerWork: [String: Double] = [:], fallbackSeconds: Double = 10) {
        self.secondsPerWork = secondsPerWork
        self.fallbackSeconds = fallbackSeconds
    }

    package func seconds(for entry: QueueSnapshot.Entry) -> Double {
        if let perWork = secondsPerWork["\(entry.model)|\(entry.size)"] { return perWork * Double(max(1, entry.work)) }
        return entry.estimate > 0 ? entry.estimate : fallbackSeconds
    }
}

extension RedisJobQueue {
    /// The pool's queue in start order (at most `limit` waiting jobs) and its running jobs;
    /// `imagining` a job of that user and plan added now, its position too.
    package func snapshot(pool: String, limit: Int = QueueSnapshot.defaultLimit, imagining: (user: UserID, plan: Plan)? = nil) async throws -> QueueSnapshot {
        var arguments = [prefix, pool, String(max(1, limit)), mode.rawValue]
        if let imagining {
            let planClass = policy[imagining.plan]
            arguments += [imagining.user.description, String(planClass.priority), String(planClass.weight)]
        }
        let reply = try await redis.evalsha(JobQueueScripts.order, keys: [], arguments: arguments)
        guard let parts = reply.array, parts.count == 4 else { throw RedisError(.protocolError, "order: unexpected reply") }
        let milliseconds = parts[0].string.flatMap(Double.init) ?? Date().timeIntervalSince1970 * 1000
        func entries(_ reply: RedisValue) -> [QueueSnapshot.Entry] {
            (reply.array ?? []).compactMap { row in
                guard let fields = row.array, fields.count == 6 else { return nil }
                let text = fields.map { $0.string ?? "" }
                return QueueSnapshot.Entry(
                    jobID: JobID(text[0]), model: text[1], work: Int(text[2]) ?? 1, size: text[3], estimate: Double(text[4]) ?? 0,
                    since: Date(timeIntervalSince1970: (Double(text[5]) ?? milliseconds) / 1000)
                )
            }
        }
        let position = parts[2].int.map(Int.init) ?? -1
        return QueueSnapshot(
            pool: pool, takenAt: Date(timeIntervalSince1970: milliseconds / 1000), waiting: entries(parts[1]),
            running: entries(parts[3]), imaginedPosition: imagining != nil && position >= 0 ? position : nil
        )
    }

    /// How many waiting jobs of `pool` would start before a job of `user` on `plan` enqueued now: the
    /// position `snapshot(pool:imagining:)` finds, counted in O(users + classes) rather than played
    /// forward over every waiting job, so it is cheap enough for every submission.
    package func position(pool: String, imagining: (user: UserID, plan: Plan)) async throws -> Int {
        let planClass = policy[imagining.plan]
        let reply = try await redis.evalsha(JobQueueScripts.position, keys: [], arguments: [
            prefix, pool, mode.rawValue, imagining.user.description, String(planClass.priority), String(planClass.weight),
        ])
        guard let position = reply.int else { throw RedisError(.protocolError, "position: unexpected reply") }
        return max(0, Int(position))
    }

    /// The measured run times (`JobTimings.secondsPerWork`).
    package func timings() async throws -> [String: Double] {
        let flat = (try await redis.send("HGETALL", "\(prefix):timing").array ?? []).map { $0.string ?? "" }
        var timings: [String: Double] = [:]
        for index in stride(from: 0, to: flat.count - 1, by: 2) {
            if let value = Double(flat[index + 1]) { timings[flat[index]] = value }
        }
        return timings
    }
}
