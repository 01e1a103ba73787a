import ArgumentParser
import Core
import Foundation
import Logging
import RedisClient
import ServiceKit

/// `ai-worker bench-scheduler` (`make bench-scheduler`): the same workload through plain FIFO, the fair
/// dispatcher without model affinity, and the fair dispatcher with it, each on the real Redis
/// scripts and the real worker loop (`JobWorker`, `JobProcessor`) with a simulated engine, and one
/// table side by side.
///
/// Each run has two phases in its own key namespace: a *stream* of `--jobs` jobs arriving at random
/// (Poisson, `--load` × the workers' capacity without model loads) from `--users` users on three plans
/// with Zipf-popular models, measuring model loads, waits per plan and Jain's fairness index of the
/// users' mean waits; then a *burst* of `--burst` jobs enqueued at once (no arrivals after), whose
/// reported positions and ETAs are compared with what happened.
struct BenchSchedulerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ai-worker bench-scheduler",
        abstract: "FIFO versus the fair dispatcher on a simulated engine: loads, waits, fairness, ETA error."
    )

    @Option(help: "Redis to use (its keys are namespaced per run and deleted after).") var redis = "redis://127.0.0.1:6379"
    @Option(help: "Jobs of the stream phase.") var jobs = 1000
    @Option(help: "Jobs of the burst phase.") var burst = 100
    @Option var workers = 3
    @Option var users = 20
    @Option var models = 4
    @Option(help: "Model load time, ms (at time scale 1).") var loadMs = 2000
    @Option(help: "Time per step, ms (at time scale 1).") var stepMs = 50
    @Option(help: "Steps per job: uniform from this ...") var minSteps = 20
    @Option(help: "... to this.") var maxSteps = 30
    @Option(help: "Arrival rate as a share of the workers' capacity without model loads.") var load = 0.5
    @Option(help: "Multiplies every simulated time (0.1: a 2 s load takes 200 ms).") var timeScale = 0.1
    @Option(help: "Affinity bound, ms (at time scale 1), for every plan.") var affinityMs = 10_000
    @Option var seed: UInt64 = 42

    /// One job of the workload.
    struct Planned {
        var user: Int
        var model: Int
        var steps: Int
        /// Seconds after the phase starts.
        var arrival: Double
    }

    func run() async throws {
        var logger = Logger(label: "bench-scheduler")
        logger.logLevel = .error
        var random = SplitMix64(seed: seed)
        let plans = (0..<users).map { index -> Plan in
            // Half free, a third pro, the rest studio: "20 users on three plans".
            index < users / 2 ? .free : (index < users * 5 / 6 ? .pro : .studio)
        }
        let meanSeconds = Double(minSteps + maxSteps) / 2 * Double(stepMs) / 1000 * timeScale
        let rate = load * Double(workers) / meanSeconds
        var clock = 0.0
        let stream = (0..<jobs).map { _ -> Planned in
            clock += -log(max(1e-12, random.unit())) / rate
            return Planned(user: random.int(users), model: random.zipf(models), steps: minSteps + random.int(maxSteps - minSteps + 1), arrival: clock)
        }
        let burstJobs = (0..<burst).map { _ in
            Planned(user: random.int(users), model: random.zipf(models), steps: minSteps + random.int(maxSteps - minSteps + 1), arrival: 0)
        }
        print("bench-scheduler: \(jobs) jobs arriving at \(String(format: "%.1f", rate))/s (load \(load)), then a burst of \(burst);"
            + " \(workers) workers, \(users) users (\(plans.filter { $0 == .free }.count) free, \(plans.filter { $0 == .pro }.count) pro,"
            + " \(plans.filter { $0 == .studio }.count) studio), \(models) models (Zipf); load \(loadMs) ms, \(stepMs) ms/step,"
            + " \(minSteps)-\(maxSteps) steps, time scale \(timeScale), affinity bound \(affinityMs) ms")
        let pool = RedisPool(configuration: RedisConfiguration(url: redis, maxConnections: workers * 2 + 4), logger: logger)
        defer { Task { await pool.close() } }
        var results: [(String, Outcome)] = []
        for (name, mode, affinity) in [("FIFO", RedisJobQueue.DispatchMode.fifo, false), ("fair", .fair, false), ("fair+affinity", .fair, true)] {
            print("  running \(name) ...")
            let outcome = try await runOnce(
                mode: mode, affinity: affinity, stream: stream, burst: burst > 0 ? burstJobs : [], plans: plans, redis: pool, logger: logger
            )
            results.append((name, outcome))
        }
        print(Self.table(results, plans: Array(Set(plans)).sorted()))
        await pool.close()
    }

    /// What one run measured.
    struct Outcome {
        var loadsPer1000: Double
        /// Seconds from arrival to start, per plan.
        var waits: [Plan: [Double]]
        /// Jain's index of the users' mean waits: all users, and the lowest within one plan.
        var jainAll: Double
        var jainWithinPlan: Double
        var positionError: Double
        var etaError: Double
        var seconds: Double
    }

    private func runOnce(
        mode: RedisJobQueue.DispatchMode, affinity: Bool, stream: [Planned], burst: [Planned], plans: [Plan], redis: RedisPool,
        logger: Logger
    ) async throws -> Outcome {
        let keys = PipelineKeys(namespace: "bench-\(UUID().uuidString.prefix(8).lowercased())")
        let bound = Int(Double(affinityMs) * timeScale)
        let policy = try SchedulingPolicy.parse(Plan.allCases.map { "\($0.rawValue).affinity_ms=\(affinity ? bound : 0)" }.joined(separator: ","))
        let queue = RedisJobQueue(redis: redis, keys: keys, policy: policy, mode: mode)
        let poolName = "gpu-bench"
        let catalog = try Self.catalog(models: models, pool: poolName)
        let storageDir = FileManager.default.temporaryDirectory.appendingPathComponent("bench-scheduler-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: storageDir) }
        let userIDs = (0..<users).map { _ in UserID() }
        var engines: [SimulatedEngine] = []
        var loops: [Task<Void, any Error>] = []
        for index in 0..<workers {
            let engine = SimulatedEngine(
                loadTime: .milliseconds(Int64(Double(loadMs) * timeScale)), stepTime: .microseconds(Int64(Double(stepMs) * timeScale * 1000))
            )
            engines.append(engine)
            let status = WorkerStatus()
            let processor = JobProcessor(
                queue: queue, workerID: "bench-w\(index)", catalog: catalog, engines: ["preview": engine],
                storage: FileSystemImageStorage(directory: storageDir), modelsDir: storageDir, status: status, lease: .seconds(60),
                shutdownGrace: .seconds(1), logger: logger
            )
            let worker = JobWorker(
                queue: queue, pools: [poolName], workerID: "bench-w\(index)", processor: processor, status: status,
                lease: .seconds(60), maxDeliveries: 3, readBlock: .milliseconds(200), logger: logger, preferWarmModels: affinity
            )
            loops.append(Task { try await worker.run() })
        }
        let began = Date()
        var arrivals: [JobID: (user: Int, arrived: Date)] = [:]
        func submit(_ planned: Planned) async throws -> JobID {
            let request = JobRequest(model: "m\(planned.model)", prompt: "bench", width: 8, height: 8, steps: planned.steps, cfgScale: 7)
            let job = JobQueued(
                jobID: JobID(), userID: userIDs[planned.user], plan: plans[planned.user], priority: policy[plans[planned.user]].priority,
                request: request, cost: 1, queue: poolName, enqueuedAt: Date()
            )
            arrivals[job.jobID] = (planned.user, Date())
            try await queue.enqueue(job, envelope: String(decoding: try WireCodec.encode(job), as: UTF8.self))
            return job.jobID
        }
        // Phase 1: the stream.
        let streamStart = ContinuousClock.now
        for planned in stream {
            let due = streamStart + .milliseconds(Int64(planned.arrival * 1000))
            if due > .now { try await Task.sleep(until: due) }
            _ = try await submit(planned)
        }
        try await waitUntilIdle(queue, pool: poolName)
        let streamLoads = engines.map(\.loads).reduce(0, +)
        let streamStarts = try await starts(keys: keys, redis: redis)

        // Phase 2: the burst, with positions and ETAs as reported right after it was enqueued.
        var burstIDs: [JobID] = []
        for planned in burst { burstIDs.append(try await submit(planned)) }
        let snapshot = try await queue.snapshot(pool: poolName, limit: burst.count + 10)
        let timings = JobTimings(secondsPerWork: try await queue.timings())
        let estimates = snapshot.estimates(workers: workers, timings: timings)
        try await waitUntilIdle(queue, pool: poolName)
        let all = try await starts(keys: keys, redis: redis)
        for loop in loops { loop.cancel() }
        for loop in loops { _ = try? await loop.value }
        let seconds = Date().timeIntervalSince(began)

        // Stream metrics.
        var waits: [Plan: [Double]] = [:]
        var perUser: [Int: [Double]] = [:]
        for started in streamStarts {
            guard let arrival = arrivals[started.id] else { continue }
            let wait = max(0, started.at.timeIntervalSince(arrival.arrived))
            waits[plans[arrival.user], default: []].append(wait)
            perUser[arrival.user, default: []].append(wait)
        }
        let means = perUser.mapValues { $0.reduce(0, +) / Double($0.count) }
        let jainAll = Self.jain(Array(means.values))
        let jainWithin = Set(plans).map { plan in Self.jain(means.filter { plans[$0.key] == plan }.map(\.value)) }.min() ?? 1

        // Burst metrics: the reported position of each job waiting at the snapshot vs the number of
        // those jobs actually started before it (workers took the first ones while the burst was
        // being enqueued: those were running, not waiting); the reported start vs the real one.
        let waitingAtSnapshot = Set(snapshot.waiting.compactMap(\.jobID)).intersection(burstIDs)
        let order = all.filter { waitingAtSnapshot.contains($0.id) }.sorted { $0.sequence < $1.sequence }
        var positionError = 0.0, etaError = 0.0, counted = 0
        for (actual, started) in order.enumerated() {
            guard let estimate = estimates.first(where: { $0.jobID == started.id }) else { continue }
            positionError += Double(abs(estimate.position - actual))
            etaError += abs(estimate.startAt.timeIntervalSince(started.at))
            counted += 1
        }
        _ = try? await redis.send(["EVAL", "for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end return 0", "0", "\(keys.namespace)*"])
        return Outcome(
            loadsPer1000: Double(streamLoads) * 1000 / Double(max(1, stream.count)), waits: waits, jainAll: jainAll,
            jainWithinPlan: jainWithin, positionError: counted > 0 ? positionError / Double(counted) : 0,
            etaError: counted > 0 ? etaError / Double(counted) : 0, seconds: seconds
        )
    }

    /// Waits until the pool has nothing waiting, delayed or running.
    private func waitUntilIdle(_ queue: RedisJobQueue, pool: String) async throws {
        let deadline = ContinuousClock.now + .seconds(3600)
        while try await queue.depth(pool: pool).total > 0 {
            guard ContinuousClock.now < deadline else { throw CleanExit.message("the queue did not drain within an hour") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Every `job.started` on the results stream, in stream order: id, worker clock time, sequence.
    private func starts(keys: PipelineKeys, redis: RedisPool) async throws -> [(id: JobID, at: Date, sequence: Int)] {
        var found: [(id: JobID, at: Date, sequence: Int)] = []
        let entries = try await redis.send("XRANGE", keys.results, "-", "+").array ?? []
        for (index, entry) in entries.enumerated() {
            guard let parts = entry.array, parts.count == 2, let fields = parts[1].array, fields.count >= 2,
                  let text = fields[1].string, let header = try? WireCodec.peek(Array(text.utf8)), header.type == JobStarted.type,
                  let started = try? WireCodec.decode(JobStarted.self, from: Array(text.utf8)).data
            else { continue }
            found.append((started.jobID, started.startedAt, index))
        }
        return found
    }

    static func jain(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return 1 }
        let sum = values.reduce(0, +), squares = values.reduce(0) { $0 + $1 * $1 }
        return squares == 0 ? 1 : sum * sum / (Double(values.count) * squares)
    }

    /// The nearest-rank percentile.
    static func percentile(_ values: [Double], _ p: Double) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        let rank = Int((p * Double(sorted.count)).rounded(.up))
        return sorted[min(sorted.count - 1, max(0, rank - 1))]
    }

    static func table(_ results: [(String, Outcome)], plans: [Plan]) -> String {
        func cell(_ text: String) -> String { text.padding(toLength: 16, withPad: " ", startingAt: 0) }
        var lines = [cell("") + results.map { cell($0.0) }.joined()]
        func row(_ name: String, _ value: (Outcome) -> String) { lines.append(cell(name) + results.map { cell(value($0.1)) }.joined()) }
        row("loads/1000 jobs") { String(format: "%.0f", $0.loadsPer1000) }
        for plan in plans {
            row("wait p50 \(plan.rawValue)") { String(format: "%.2f s", percentile($0.waits[plan] ?? [], 0.5)) }
            row("wait p95 \(plan.rawValue)") { String(format: "%.2f s", percentile($0.waits[plan] ?? [], 0.95)) }
        }
        row("Jain all users") { String(format: "%.3f", $0.jainAll) }
        row("Jain in a plan") { String(format: "%.3f", $0.jainWithinPlan) }
        row("position MAE") { String(format: "%.2f", $0.positionError) }
        row("start ETA MAE") { String(format: "%.2f s", $0.etaError) }
        row("run time") { String(format: "%.0f s", $0.seconds) }
        if let fifo = results.first?.1, let best = results.last?.1 {
            let ratio = fifo.loadsPer1000 > 0 ? best.loadsPer1000 / fifo.loadsPer1000 : 0
            let waits = plans.map { plan in
                let base = percentile(fifo.waits[plan] ?? [], 0.95)
                return String(format: "%@ %.2f", plan.rawValue, base > 0 ? percentile(best.waits[plan] ?? [], 0.95) / base : 0)
            }
            lines.append("")
            lines.append(String(format: "%@ vs FIFO: loads %.2f× (goal ≤ 0.20), p95 wait ", results.last!.0, ratio)
                + waits.joined(separator: ", ") + " (goal ≤ 1.10 each), Jain in a plan " + String(format: "%.3f", best.jainWithinPlan) + " (goal ≥ 0.9)")
        }
        return lines.joined(separator: "\n")
    }

    /// `models` catalog models `m0` … on one pool, all served by the simulated engine.
    static func catalog(models: Int, pool: String) throws -> ModelCatalog {
        let entries = (0..<models).map { index in
            """
            {"id": "m\(index)", "name": "Model \(index)", "family": "preview", "engine": "preview", "pool": "\(pool)",
              "pricing": {"base": 1, "per_megapixel_step_milli": 0, "per_lora": 0, "controlnet": 0},
              "limits": {"min_width": 8, "max_width": 1024, "min_height": 8, "max_height": 1024, "multiple_of": 8,
                "max_steps": 100, "max_batch": 4, "min_cfg_scale": 0, "max_cfg_scale": 30, "samplers": ["euler_a"],
                "defaults": {"width": 512, "height": 512, "steps": 8, "cfg_scale": 7.0, "sampler": "euler_a"}}}
            """
        }
        return try ModelCatalog.parse(Array(#"{"version": 1, "models": ["#.utf8) + Array(entries.joined(separator: ",").utf8) + Array("]}".utf8))
    }
}

/// The workload's draws, from a seeded generator so every run and every mode sees the same workload.
extension SplitMix64 {
    /// In (0, 1].
    mutating func unit() -> Double { Double(next() >> 11 + 1) / Double(1 << 53) }
    mutating func int(_ bound: Int) -> Int { Int(next() % UInt64(max(1, bound))) }
    /// 0 ..< count with probability ∝ 1 / (k + 1).
    mutating func zipf(_ count: Int) -> Int {
        let weights = (0..<count).map { 1 / Double($0 + 1) }
        var pick = unit() * weights.reduce(0, +)
        for (index, weight) in weights.enumerated() {
            pick -= weight
            if pick <= 0 { return index }
        }
        return count - 1
    }
}
