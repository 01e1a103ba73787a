import Core
import Foundation
import RedisClient
import ServiceKit
import TestSupport
import Testing
@testable import AIWorkerService

@Suite(.timeLimit(.minutes(2))) struct JobWorkerTests {
    @Test func queuedJobEndsSucceededWithAStoredPNG() async throws {
        let harness = try WorkerHarness()
        let job = harness.job { $0.batchSize = 2 }
        try await harness.enqueue(job)  // before the worker ever started
        let results = try await harness.withWorker { try await harness.results(for: job.jobID) }

        #expect(results.map(\.type) == [JobStarted.type, JobFinished.type])
        let finished = try harness.finished(results)
        #expect(finished.attempt == 1 && finished.workerID == harness.configuration.workerID)
        guard case .succeeded(let images) = finished.outcome else { Issue.record("outcome \(finished.outcome)"); return }
        #expect(images.count == 2)
        #expect(images.map(\.seed) == [1234, 1235])
        for image in images {
            #expect(image.storageKey == "\(harness.userID)/\(image.imageID).png")
            #expect(image.engine == "preview" && image.contentType == "image/png" && image.width == 96 && image.height == 64)
            let bytes = try [UInt8](Data(contentsOf: harness.storage.appendingPathComponent(image.storageKey)))
            #expect(bytes.count == image.bytes)
            let png = try PNGReader(bytes)
            #expect(png.width == 96 && png.height == 64)
            #expect(png.text["engine"] == "preview")
            let parameters = try #require(JSONSerialization.jsonObject(with: Data((png.text["parameters"] ?? "").utf8)) as? [String: Any])
            #expect(parameters["prompt"] as? String == "a lighthouse" && parameters["model"] as? String == "preview")
            // small enough already: the thumbnail is the same picture, without the recipe
            #expect(image.thumbnailKey == "\(harness.userID)/\(image.imageID).thumb.png")
            let thumbnail = try PNGReader([UInt8](Data(contentsOf: harness.storage.appendingPathComponent(try #require(image.thumbnailKey)))))
            #expect(thumbnail.width == 96 && thumbnail.height == 64 && thumbnail.text.isEmpty)
        }
        #expect(harness.files().count == 4, "two images, two thumbnails, no temporary files left behind")
        #expect(try await harness.state(of: job.jobID) == "done", "the queue forgot the job; only the marker of its result in flight is left")
    }

    @Test func canceledJobIsReportedCanceledWithoutAFile() async throws {
        let harness = try WorkerHarness()
        let job = harness.job()
        _ = try await harness.redis.send("SET", harness.keys.canceled(job.jobID), "1", "EX", "60")
        try await harness.enqueue(job)
        let results = try await harness.withWorker { try await harness.results(for: job.jobID) }
        #expect(results.map(\.type) == [JobFinished.type], "a canceled job never starts")
        #expect(try harness.finished(results).outcome == .canceled)
        #expect(harness.files().isEmpty)
    }

    @Test func runningJobStopsWhenCanceled() async throws {
        let harness = try WorkerHarness()
        let job = harness.job { $0.steps = 2000 }  // ~4 s of steps
        try await harness.enqueue(job)
        let results = try await harness.withWorker {
            try await harness.waitUntilAJobStarted()
            _ = try await harness.redis.send("SET", harness.keys.canceled(job.jobID), "1")
            return try await harness.results(for: job.jobID)
        }
        // 2000 steps: a worker that ignored the cancel key would report `succeeded` and store a file.
        #expect(try harness.finished(results).outcome == .canceled, "canceled between steps, not after all of them")
        #expect(harness.files().isEmpty)
    }

    @Test func malformedMessageIsDeadLetteredAndTheNextJobStillRuns() async throws {
        let harness = try WorkerHarness()
        let broken = [harness.job(), harness.job()]
        try await harness.enqueue(broken[0], envelope: "{not an envelope")
        try await harness.enqueue(broken[1], envelope: "")
        let job = harness.job()
        try await harness.enqueue(job)
        let results = try await harness.withWorker { try await harness.results(for: job.jobID) }

        guard case .succeeded = try harness.finished(results).outcome else { Issue.record("the good job did not succeed"); return }
        let dead = try await harness.redis.send("XRANGE", harness.keys.queueDeadLetter, "-", "+").array ?? []
        #expect(dead.count == 2)
        for job in broken { #expect(try await harness.state(of: job.jobID) == "done", "dead-lettered jobs leave the queue") }
    }

    @Test func unknownModelFailsWithoutRetryAndTheWorkerCarriesOn() async throws {
        let harness = try WorkerHarness()
        let bad = harness.job { $0.model = "no-such-model" }
        let good = harness.job()
        try await harness.enqueue(bad)
        try await harness.enqueue(good)
        let (badResults, goodResults) = try await harness.withWorker {
            (try await harness.results(for: bad.jobID), try await harness.results(for: good.jobID))
        }
        #expect(try harness.finished(badResults).outcome == .failed(code: "model_not_found", message: "This worker's catalog has no model no-such-model.", retryable: false))
        guard case .succeeded = try harness.finished(goodResults).outcome else { Issue.record("the next job did not succeed"); return }
    }

    @Test func aJobWhoseWorkerDiedIsTakenOverOnceItsLeaseRunsOut() async throws {
        let harness = try WorkerHarness(lease: .seconds(1))
        let job = harness.job()
        try await harness.enqueue(job)
        let taken = try await harness.jobQueue.dispatch(pools: [harness.pool], worker: "crashed-worker", lease: .seconds(1))
        #expect(taken?.jobID == job.jobID && taken?.attempt == 1)
        let dispatchedAt = ContinuousClock.now

        let results = try await harness.withWorker { try await harness.results(for: job.jobID) }
        let finished = try harness.finished(results)
        guard case .succeeded = finished.outcome else { Issue.record("the job taken over did not succeed"); return }
        #expect(finished.attempt == 2, "every delivery is a new attempt")
        // The lease (1 s) plus a reclaim round, with room for a loaded 2-core machine running every
        // unit suite at once (5.15 s seen there); a takeover that waited for minutes still fails.
        #expect(ContinuousClock.now - dispatchedAt < .seconds(10), "taken over within the lease plus a reclaim round")
        #expect(try await harness.state(of: job.jobID) == "done")
    }

    @Test func heartbeatRegistersTheWorkerAndShutdownRemovesIt() async throws {
        let harness = try WorkerHarness()
        let raw = try await harness.withWorker {
            try await eventuallyValue(pollEvery: .milliseconds(50), "the worker's heartbeat in the registry") {
                try await harness.redis.send("HGET", harness.keys.workers, harness.configuration.workerID).bytes
            }
        }
        let seen = try #require(JSONSerialization.jsonObject(with: Data(raw)) as? [String: Any])
        #expect(seen["queues"] as? [String] == ["cpu-preview"])
        #expect(seen["models_warm"] as? [String] == ["preview"])
        #expect(seen["busy"] as? Bool == false && seen["engine"] as? String == "preview" && seen["seen_at"] is String)
        let after = try await harness.redis.send("HEXISTS", harness.keys.workers, harness.configuration.workerID)
        #expect(after.int == 0, "a stopped worker leaves the registry")
    }

    @Test func shutdownFinishesTheRunningJob() async throws {
        let harness = try WorkerHarness()
        let job = harness.job { $0.steps = 300 }  // ~0.6 s
        try await harness.enqueue(job)
        try await harness.withWorker {
            try await harness.waitUntilAJobStarted()
        }  // graceful shutdown right after JobStarted; withWorker waits for the services to stop
        let results = try await harness.results(for: job.jobID, timeout: .milliseconds(100))
        guard case .succeeded = try harness.finished(results).outcome else { Issue.record("the running job was not finished"); return }
    }

    @Test func shutdownPastTheGraceHandsTheJobBack() async throws {
        let harness = try WorkerHarness(grace: .milliseconds(300))
        let job = harness.job { $0.steps = 5000 }  // ~10 s
        try await harness.enqueue(job)
        try await harness.withWorker {
            try await harness.waitUntilAJobStarted()
        }
        let types = (try await harness.redis.send("XLEN", harness.keys.results).int) ?? 0
        #expect(types == 1, "only JobStarted: no JobFinished for a handed-back job")
        #expect(try await harness.state(of: job.jobID) == "waiting", "handed back to the queue at once, for another worker")
        let next = try await harness.jobQueue.dispatch(pools: [harness.pool], worker: "next-worker", lease: .seconds(5))
        #expect(next?.jobID == job.jobID && next?.attempt == 1, "a handed-back delivery does not count")
    }
}
