import Core
import Foundation
import Logging
import RedisClient
import ServiceKit
import TestSupport
import Testing

/// Model affinity, truthful positions and ETAs, and the FIFO baseline, against the real Redis.
@Suite(.timeLimit(.minutes(2))) struct SchedulerTests {
    let redis: RedisPool
    let pool = "gpu-test"

    init() throws {
        redis = RedisPool(configuration: RedisConfiguration(url: try TestStack.shared().redisURL), logger: Logger(label: "test"))
    }

    func queue(_ policy: String = "", mode: RedisJobQueue.DispatchMode = .fair) throws -> RedisJobQueue {
        RedisJobQueue(
            redis: redis, keys: PipelineKeys(namespace: TestStack.uniqueName("sched")), policy: try SchedulingPolicy.parse(policy), mode: mode
        )
    }

    func job(_ user: UserID, plan: Plan = .free, model: String = "sd15", steps: Int = 4) -> JobQueued {
        JobQueued(
            jobID: JobID(), userID: user, plan: plan,
            request: JobRequest(model: model, prompt: "x", width: 64, height: 64, steps: steps, cfgScale: 7), cost: 1, queue: pool,
            enqueuedAt: Date()
        )
    }

    func enqueue(_ queue: RedisJobQueue, _ job: JobQueued) async throws {
        try await queue.enqueue(job, envelope: String(decoding: try WireCodec.encode(job), as: UTF8.self))
    }

    /// Dispatches and completes every job, one worker with no model loaded; ids in start order.
    func drain(_ queue: RedisJobQueue) async throws -> [JobID] {
        var order: [JobID] = []
        while let next = try await queue.dispatch(pools: [pool], worker: "w", lease: .seconds(30)) {
            try await queue.complete(next.jobID, worker: "w", result: nil)
            order.append(next.jobID)
        }
        return order
    }

    @Test func theReportedPositionOfEveryWaitingJobIsTheNumberStartedBeforeIt() async throws {
        let queue = try queue()
        // Three plans, users with bursts and single jobs, enqueued interleaved.
        let users: [(UserID, Plan, Int)] = [
            (UserID(), .free, 6), (UserID(), .free, 1), (UserID(), .basic, 4), (UserID(), .pro, 3), (UserID(), .studio, 5), (UserID(), .free, 2),
        ]
        var remaining = users.map(\.2)
        while remaining.contains(where: { $0 > 0 }) {
            for (index, (user, plan, _)) in users.enumerated() where remaining[index] > 0 {
                try await enqueue(queue, job(user, plan: plan))
                remaining[index] -= 1
            }
        }
        // Some history first, so classes and users are not all at their starting passes.
        _ = try #require(try await queue.dispatch(pools: [pool], worker: "w", lease: .seconds(30))).jobID
        let running = try await queue.snapshot(pool: pool).running
        #expect(running.count == 1)
        let reported = try await queue.snapshot(pool: pool).waiting.compactMap(\.jobID)
        #expect(reported.count == 20)
        try await queue.complete(try #require(running.first?.jobID), worker: "w", result: nil)
        let started = try await drain(queue)
        #expect(started == reported, "positions must be the dispatch order")
        for (position, id) in reported.enumerated() {
            #expect(started.firstIndex(of: id) == position)
        }
        await redis.close()
    }

    @Test func anImaginedJobsPositionIsWhereItReallyLands() async throws {
        let queue = try queue()
        for _ in 0..<4 { try await enqueue(queue, job(UserID(), plan: .free)) }
        let heavy = UserID()
        for _ in 0..<3 { try await enqueue(queue, job(heavy, plan: .pro)) }
        for (user, plan) in [(UserID(), Plan.studio), (heavy, Plan.pro), (UserID(), Plan.free)] {
            let imagined = try #require(try await queue.snapshot(pool: pool, imagining: (user, plan)).imaginedPosition)
            let added = job(user, plan: plan)
            try await enqueue(queue, added)
            #expect(try await queue.snapshot(pool: pool).position(of: added.jobID) == imagined)
        }
        await redis.close()
    }

    /// The cheap count a submission uses (`position(pool:imagining:)`) against the played-forward
    /// order (`snapshot(pool:imagining:)`) and where the job really lands, over random queues: users
    /// of every plan coming and going, jobs started in between (which moves virtual clocks and passes).
    @Test(arguments: [RedisJobQueue.DispatchMode.fair, .fifo])
    func theCountedPositionIsThePlayedForwardOneAndWhereTheJobLands(mode: RedisJobQueue.DispatchMode) async throws {
        let queue = try queue(mode: mode)
        var random = SplitMix64(seed: mode == .fair ? 12 : 34)  // the same random queues every run
        let people: [(UserID, Plan)] = (0..<9).map { index in (UserID(), Plan.allCases[index % Plan.allCases.count]) }
        var checked = 0
        for round in 0..<60 {
            for _ in 0..<Int.random(in: 0...4, using: &random) {
                let (user, plan) = people[Int.random(in: 0..<people.count, using: &random)]
                try await enqueue(queue, job(user, plan: plan))
            }
            for _ in 0..<Int.random(in: 0...3, using: &random) {
                guard let next = try await queue.dispatch(pools: [pool], worker: "w", lease: .seconds(30)) else { break }
                try await queue.complete(next.jobID, worker: "w", result: nil)
            }
            // Someone in the queue, or someone new (a user of no queue yet).
            let (user, plan) = round % 4 == 3 ? (UserID(), Plan.allCases[round % Plan.allCases.count]) : people[Int.random(in: 0..<people.count, using: &random)]
            let counted = try await queue.position(pool: pool, imagining: (user, plan))
            let played = try #require(try await queue.snapshot(pool: pool, imagining: (user, plan)).imaginedPosition)
            #expect(counted == played, "round \(round): counted \(counted), played forward \(played)")
            if round % 3 == 0 {
                let added = job(user, plan: plan)
                try await enqueue(queue, added)
                #expect(try await queue.snapshot(pool: pool).position(of: added.jobID) == counted, "round \(round)")
            }
            checked += 1
        }
        #expect(checked == 60)
        #expect(try await queue.depth(pool: pool).waiting > 20, "the queue grew: positions were counted over a long one")
        await redis.close()
    }

    @Test func affinityHalvesTheModelLoadsOfAnAlternatingStreamWithinItsBound() async throws {
        let bound = Duration.milliseconds(300)
        let run = Duration.milliseconds(40)
        // One worker, 48 jobs alternating between two models from three users: how many model loads
        // does a worker need, and how many places later than in the plain order does any job start?
        func simulate(affinity: Bool) async throws -> (loads: Int, slipped: Int) {
            let queue = try queue("free.affinity_ms=\(bound.milliseconds)")
            let users = (0..<3).map { _ in UserID() }
            var models: [JobID: String] = [:]
            for index in 0..<48 {
                let added = job(users[index % 3], model: index % 2 == 0 ? "sd15" : "sdxl")
                models[added.jobID] = added.request.model
                try await enqueue(queue, added)
            }
            let natural = try await queue.snapshot(pool: pool).waiting.compactMap(\.jobID)
            var loaded: String?
            var loads = 0
            var started: [JobID] = []
            while let next = try await queue.dispatch(
                pools: [pool], worker: "w", lease: .seconds(30), warmModels: affinity ? loaded.map { [$0] } ?? [] : []
            ) {
                let model = try #require(models[next.jobID])
                if model != loaded { loads += 1; loaded = model }
                started.append(next.jobID)
                try await Task.sleep(for: run)  // the job's run
                try await queue.complete(next.jobID, worker: "w", result: nil)
            }
            #expect(started.count == 48)
            let slipped = natural.enumerated().map { position, id in (started.firstIndex(of: id) ?? 48) - position }.max() ?? 0
            return (loads, slipped)
        }
        let plain = try await simulate(affinity: false)
        let warm = try await simulate(affinity: true)
        #expect(plain.slipped == 0, "without loaded models the worker follows the plain order")
        #expect(warm.loads * 2 <= plain.loads, "affinity: \(warm.loads) loads, without: \(plain.loads)")
        // Passed over for at most the bound (300 ms: at most 7 runs of 40 ms), then a few places
        // for the jobs of users scanned after it; without a bound the first sdxl job slips 20+ places.
        #expect(warm.slipped <= 11, "a job started \(warm.slipped) places later than in the plain order")
        await redis.close()
    }

    @Test func aWorkerWithNothingLoadedTakesAJobForAModelLoadedElsewhereRatherThanIdle() async throws {
        let queue = try queue()
        for _ in 0..<3 { try await enqueue(queue, job(UserID(), model: "sd15")) }
        // Worker a has sd15 loaded and takes one job; the rest are for its model too.
        _ = try #require(try await queue.dispatch(pools: [pool], worker: "a", lease: .seconds(30), warmModels: ["sd15"]))
        // A worker just scaled up (nothing loaded) must not wait for a's bound to run out.
        let taken = try await queue.dispatch(pools: [pool], worker: "b", lease: .seconds(30), warmModels: [])
        #expect(taken != nil, "the new worker idled while jobs waited")
        // One with another model loaded takes one too, and prefers a model nobody has loaded.
        let other = job(UserID(), model: "flux")
        try await enqueue(queue, other)
        let c = try #require(try await queue.dispatch(pools: [pool], worker: "c", lease: .seconds(30), warmModels: ["sdxl"]))
        #expect(c.jobID == other.jobID, "flux is loaded nowhere: c loads it rather than a second sd15")
        await redis.close()
    }

    @Test func fifoModeServesByArrivalAloneAndFairModeByClass() async throws {
        let fifo = try queue(mode: .fifo)
        let first = job(UserID(), plan: .free), second = job(UserID(), plan: .studio)
        try await enqueue(fifo, first)
        try await Task.sleep(for: .milliseconds(5))  // distinct enqueue times (Redis clock, ms)
        try await enqueue(fifo, second)
        #expect(try await drain(fifo) == [first.jobID, second.jobID])

        let fair = try queue()
        try await enqueue(fair, first)
        try await enqueue(fair, second)
        #expect(try await drain(fair) == [second.jobID, first.jobID])
        await redis.close()
    }

    @Test func measuredRunTimesMakeTheETAsOfTheJobsBehind() async throws {
        let queue = try queue()
        let user = UserID()
        let done = job(user, steps: 10)
        try await enqueue(queue, done)
        let running = try #require(try await queue.dispatch(pools: [pool], worker: "w", lease: .seconds(30)))
        // The worker ran it in 5 s: 0.5 s per step at this model and size.
        try await queue.complete(running.jobID, worker: "w", result: nil, ran: .seconds(5))
        let timings = JobTimings(secondsPerWork: try await queue.timings())
        #expect(abs((timings.secondsPerWork["sd15|64x64"] ?? 0) - 0.5) < 0.001)

        let other = UserID()
        let waiting = [job(other, steps: 4), job(other, steps: 8), job(other, steps: 2)]
        for added in waiting { try await enqueue(queue, added) }
        let snapshot = try await queue.snapshot(pool: pool)
        // Two workers: 2 s and 4 s jobs start now, the 1 s job when the first is done.
        let estimates = snapshot.estimates(workers: 2, timings: timings)
        #expect(estimates.map(\.jobID) == waiting.map(\.jobID))
        let starts = estimates.map { $0.startAt.timeIntervalSince(snapshot.takenAt) }
        let finishes = estimates.map { $0.finishAt.timeIntervalSince(snapshot.takenAt) }
        #expect(starts.map { ($0 * 1000).rounded() } == [0, 0, 2000])
        #expect(finishes.map { ($0 * 1000).rounded() } == [2000, 4000, 3000])
        await redis.close()
    }
}

