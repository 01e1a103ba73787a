import Core
import Foundation
import Logging
import RedisClient
import ServiceKit
import TestSupport
import Testing

/// The job queue's scripts against the real Redis: order, fairness, caps, leases, deliveries.
@Suite(.timeLimit(.minutes(2))) struct RedisJobQueueTests {
    let redis: RedisPool
    let queue: RedisJobQueue
    let pool = "cpu-test"

    init() throws {
        redis = RedisPool(configuration: RedisConfiguration(url: try TestStack.shared().redisURL), logger: Logger(label: "test"))
        queue = RedisJobQueue(redis: redis, keys: PipelineKeys(namespace: TestStack.uniqueName("jq")))
    }

    func job(_ user: UserID, plan: Plan = .free, attempt: Int = 1) -> JobQueued {
        JobQueued(
            jobID: JobID(), userID: user, attempt: attempt, plan: plan,
            request: JobRequest(model: "preview", prompt: "x", width: 64, height: 64, steps: 1, cfgScale: 7), cost: 1, queue: pool,
            enqueuedAt: Date()
        )
    }

    func enqueue(_ job: JobQueued, due: Date? = nil) async throws {
        try await queue.enqueue(job, envelope: String(decoding: try WireCodec.encode(job), as: UTF8.self), due: due)
    }

    /// Dispatches and at once completes `count` jobs (one worker, jobs taking no time); their ids in order.
    func drain(_ count: Int) async throws -> [JobID] {
        var order: [JobID] = []
        for _ in 0..<count {
            guard let next = try await queue.dispatch(pools: [pool], worker: "w", lease: .seconds(30)) else { break }
            try await queue.complete(next.jobID, worker: "w", result: nil)
            order.append(next.jobID)
        }
        return order
    }

    @Test func aBurstOfOneUserDelaysAnotherUsersSingleJobByAtMostOneDispatch() async throws {
        let heavy = UserID(), light = UserID()
        let burst = (0..<20).map { _ in job(heavy) }
        for job in burst { try await enqueue(job) }
        let single = job(light)
        try await enqueue(single)
        let order = try await drain(21)
        #expect(order.count == 21)
        #expect(order.prefix(2).contains(single.jobID), "position \(order.firstIndex(of: single.jobID) ?? -1)")
        #expect(order.filter { $0 != single.jobID } == burst.map(\.jobID), "one user's jobs keep their order")
        await redis.close()
    }

    @Test func aStudioJobBehindTenFreeJobsStartsFirstAndFreeJobsStillMove() async throws {
        let free = (0..<10).map { _ in job(UserID()) }
        for job in free { try await enqueue(job) }
        let studio = job(UserID(), plan: .studio)
        try await enqueue(studio)
        #expect(try await drain(1) == [studio.jobID])

        // Paid jobs keep coming: free jobs still get a share of the dispatches (no starvation).
        var freeStarted = 0
        for _ in 0..<20 {
            try await enqueue(job(UserID(), plan: .studio))
            let next = try #require(try await drain(1).first)
            if free.contains(where: { $0.jobID == next }) { freeStarted += 1 }
        }
        #expect(freeStarted >= 3, "weights 4:1 give free jobs a fifth of the dispatches; got \(freeStarted) of 20")
        await redis.close()
    }

    @Test func aUserAtTheRunningCapGetsNoSecondJobWhileOthersWait() async throws {
        let capped = UserID(), other = UserID()
        let first = job(capped), second = job(capped), third = job(other)
        for job in [first, second, third] { try await enqueue(job) }
        let a = try await queue.dispatch(pools: [pool], worker: "w1", lease: .seconds(30))
        let b = try await queue.dispatch(pools: [pool], worker: "w2", lease: .seconds(30))
        let c = try await queue.dispatch(pools: [pool], worker: "w3", lease: .seconds(30))
        // Both users start level, so either may go first; the capped user's oldest job is the one that runs.
        #expect(Set([a?.jobID, b?.jobID]) == Set([first.jobID, third.jobID]), "free plan: one running job per user")
        #expect(c == nil, "the capped user's second job waits although a worker is free")
        #expect(try await queue.complete(first.jobID, worker: a?.jobID == first.jobID ? "w1" : "w2", result: nil))
        let d = try await queue.dispatch(pools: [pool], worker: "w3", lease: .seconds(30))
        #expect(d?.jobID == second.jobID)
        await redis.close()
    }

    @Test func anExpiredLeaseRequeuesAtTheFrontAndTheThirdOneIsDead() async throws {
        let user = UserID()
        let poisoned = job(user), later = job(user)
        try await enqueue(poisoned)
        try await enqueue(later)
        for delivery in 1...3 {
            let taken = try #require(try await queue.dispatch(pools: [pool], worker: "dies-\(delivery)", lease: .milliseconds(100)))
            #expect(taken.jobID == poisoned.jobID && taken.attempt == delivery, "requeued at the front, one attempt per delivery")
            #expect(try await queue.renew(poisoned.jobID, worker: "someone-else", lease: .seconds(1)) == false)
            let found = try await eventuallyValue(timeout: .seconds(5), "the lease of delivery \(delivery) ran out") { () -> (requeued: [JobID], dead: [JobID])? in
                let found = try await queue.reclaim(pool: pool, maxDeliveries: 3)
                return found.requeued.isEmpty && found.dead.isEmpty ? nil : found
            }
            if delivery < 3 {
                #expect(found.requeued == [poisoned.jobID] && found.dead.isEmpty)
            } else {
                #expect(found.dead == [poisoned.jobID] && found.requeued.isEmpty)
            }
        }
        #expect(try await queue.states([poisoned.jobID])[poisoned.jobID] == "dead")
        #expect(try await queue.dead(pool: pool).map(\.jobID) == [poisoned.jobID])
        let next = try await queue.dispatch(pools: [pool], worker: "w", lease: .seconds(30))
        #expect(next?.jobID == later.jobID, "a dead job no longer counts against its user's cap")
        #expect(try await queue.remove(poisoned.jobID) == .dead)
        #expect(try await queue.dead(pool: pool).isEmpty)
        await redis.close()
    }

    @Test func aJobTakenOverIsNoLongerItsFirstWorkersButItsResultStillGoesOut() async throws {
        let queued = job(UserID())
        try await enqueue(queued)
        _ = try await queue.dispatch(pools: [pool], worker: "slow", lease: .milliseconds(100))
        try await eventually(timeout: .seconds(5), "the slow worker's lease ran out") {
            try await !queue.reclaim(pool: pool, maxDeliveries: 3).requeued.isEmpty
        }
        let second = try #require(try await queue.dispatch(pools: [pool], worker: "fast", lease: .seconds(30)))
        #expect(second.attempt == 2)
        #expect(try await queue.renew(queued.jobID, worker: "slow", lease: .seconds(30)) == false, "the slow worker learns it lost the job")
        #expect(try await queue.complete(queued.jobID, worker: "slow", result: "late") == false)
        #expect(try await queue.states([queued.jobID])[queued.jobID] == "active", "still the fast worker's")
        #expect(try await queue.complete(queued.jobID, worker: "fast", result: "on time") == true)
        let results = (try await redis.send("XRANGE", queue.keys.results, "-", "+").array ?? []).count
        #expect(results == 2, "both results reach generation, which keeps the one of the current attempt")
        await redis.close()
    }

    @Test func removeTakesOnlyWaitingJobsAndEnqueueIsIdempotent() async throws {
        let first = job(UserID()), second = job(UserID())
        try await enqueue(first)
        try await enqueue(second)
        try await enqueue(second)
        let taken = try #require(try await queue.dispatch(pools: [pool], worker: "w", lease: .seconds(30)))
        let (running, waiting) = taken.jobID == first.jobID ? (first, second) : (second, first)
        #expect(try await queue.remove(running.jobID) == .running)
        #expect(try await queue.remove(waiting.jobID) == .removed)
        #expect(try await queue.remove(waiting.jobID) == .unknown)
        #expect(try await queue.dispatch(pools: [pool], worker: "w2", lease: .seconds(30)) == nil, "enqueued twice, queued once, removed")
        let depth = try await queue.depth(pool: pool)
        #expect(depth.waiting == 0 && depth.running == 1 && depth.delayed == 0)
        await redis.close()
    }

    @Test func aDelayedRetryWaitsUntilItsTimeAndAHandedBackJobKeepsItsAttempt() async throws {
        let later = job(UserID(), attempt: 3), retry = job(UserID(), attempt: 2)
        try await enqueue(later, due: Date().addingTimeInterval(60))
        try await enqueue(retry, due: Date().addingTimeInterval(0.5))
        #expect(try await queue.states([later.jobID, retry.jobID]) == [later.jobID: "delayed", retry.jobID: "delayed"])
        let taken = try await eventuallyValue(timeout: .seconds(10), "the retry became due") {
            try await queue.dispatch(pools: [pool], worker: "w", lease: .seconds(30))
        }
        #expect(taken.jobID == retry.jobID && taken.attempt == 2, "only the job whose time came")
        #expect(try await queue.states([later.jobID])[later.jobID] == "delayed", "not before its time")
        #expect(try await queue.release(retry.jobID, worker: "w"))
        let again = try await queue.dispatch(pools: [pool], worker: "w2", lease: .seconds(30))
        #expect(again?.attempt == 2, "a delivery handed back on shutdown does not count")
        await redis.close()
    }
}
