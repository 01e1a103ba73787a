import Core
import Foundation
import RedisClient
import TestSupport
import Testing
@testable import AIWorkerService

@Suite(.timeLimit(.minutes(2))) struct JobWorkerTests {
    @Test func queuedJobEndsSucceededWithAStoredPNG() async throws {
        let harness = try WorkerHarness()
        let job = harness.job { $0.batchSize = 2 }
        try await harness.enqueue(job)  // before the worker ever started: the group must start at 0
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
        }
        #expect(harness.files().count == 2, "no temporary files are left behind")
        let pending = try await harness.redis.xpending(harness.queue, group: "workers")
        #expect(pending.count == 0, "the job is acknowledged")
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
        _ = try await harness.redis.xadd(harness.queue, maxLength: nil, fields: [("m", "{not an envelope")])
        _ = try await harness.redis.xadd(harness.queue, maxLength: nil, fields: [("other", "field")])
        let job = harness.job()
        try await harness.enqueue(job)
        let results = try await harness.withWorker { try await harness.results(for: job.jobID) }

        guard case .succeeded = try harness.finished(results).outcome else { Issue.record("the good job did not succeed"); return }
        let dead = try await harness.redis.send("XRANGE", harness.keys.queueDeadLetter, "-", "+").array ?? []
        #expect(dead.count == 2)
        let pending = try await harness.redis.xpending(harness.queue, group: "workers")
        #expect(pending.count == 0, "dead-lettered messages are acknowledged")
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

    @Test func jobLeftPendingByADeadConsumerIsClaimedAfterTheLease() async throws {
        let harness = try WorkerHarness(lease: .seconds(1))
        try await harness.redis.xgroupCreate(harness.queue, group: "workers", startID: "0")
        let job = harness.job()
        try await harness.enqueue(job)
        let taken = try await harness.redis.xreadgroup(group: "workers", consumer: "crashed-worker", streams: [harness.queue], count: 1, block: nil)
        #expect(taken.count == 1)

        let results = try await harness.withWorker { try await harness.results(for: job.jobID) }
        guard case .succeeded = try harness.finished(results).outcome else { Issue.record("the claimed job did not succeed"); return }
        let pending = try await harness.redis.xpending(harness.queue, group: "workers")
        #expect(pending.count == 0)
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
        let pending = try await harness.redis.xpending(harness.queue, group: "workers")
        #expect(pending.count == 1, "left unacknowledged for the lease to hand on")
    }
}
