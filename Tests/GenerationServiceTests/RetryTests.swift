import Core
import Foundation
import ServiceKit
import TestSupport
import Testing
@testable import GenerationService

/// Attempts that fail for a passing reason run again, with backoff, as new attempts.
@Suite(.timeLimit(.minutes(2))) struct RetryTests {
    @Test func aRetryableFailureQueuesTheNextAttemptAndARepeatOfItChangesNothing() async throws {
        try await GenerationHarness.run { h in
            let user = UserID()
            let id = try await h.create(user)
            let queue = RedisJobQueue(redis: h.redis, keys: h.keys)
            try await h.sendResult(JobStarted(jobID: id, attempt: 1, workerID: "w1", startedAt: .now))
            try await eventually("the job is running") { try await h.job(id, user)["status"] as? String == "running" }

            let failure = JobFinished(
                jobID: id, attempt: 1, workerID: "w1", outcome: .failed(code: "storage_error", message: "disk full", retryable: true)
            )
            try await h.sendResult(failure)
            try await eventually("the next attempt is queued") { try await h.job(id, user)["retries"] as? Int == 1 }
            var job = try await h.job(id, user)
            #expect(job["status"] as? String == "queued" && job["attempt"] as? Int == 2, "\(job)")
            #expect((job["last_error"] as? [String: Any])?["code"] as? String == "storage_error")
            #expect(job["error"] is NSNull, "not failed: retried")
            try await eventually("the retry waits in the queue, delayed by its backoff") {
                ["delayed", "waiting"].contains(try await queue.states([id])[id] ?? "")
            }

            try await h.sendResult(failure)  // the same report again: applied before, changes nothing
            try await eventually("the results consumer took the repeat") { try await h.resultsConsumed() }
            job = try await h.job(id, user)
            #expect(job["retries"] as? Int == 1 && job["status"] as? String == "queued", "\(job)")

            try await h.sendResult(JobStarted(jobID: id, attempt: 2, workerID: "w2", startedAt: .now))
            try await h.sendResult(JobFinished(jobID: id, attempt: 2, workerID: "w2", outcome: .succeeded(images: [ResultsConsumerTests.image()])))
            try await eventually("the second attempt succeeded") { try await h.job(id, user)["status"] as? String == "succeeded" }
            try await eventually("the hold was captured once") { h.fakes.settlements(of: id) == ["capture"] }
        }
    }

    @Test func backoffDoublesUpToItsCapWithJitter() {
        let policy = RetryPolicy(maxRetries: 5, base: .seconds(2), cap: .seconds(10))
        #expect(policy.delay(retry: 1, random: 1) == .seconds(2))
        #expect(policy.delay(retry: 2, random: 1) == .seconds(4))
        #expect(policy.delay(retry: 3, random: 0.5) == .seconds(4))
        #expect(policy.delay(retry: 4, random: 1) == .seconds(10), "capped")
        #expect(policy.delay(retry: 60, random: 1) == .seconds(10), "no overflow")
    }
}
