import Core
import Foundation
import Logging
import RedisClient
import TestSupport
import Testing
@testable import AIWorkerService

/// Jobs for an `sdcpp` catalog entry through the worker's queue, on the real library and tiny model.
@Suite(.serialized, .timeLimit(.minutes(10))) struct EngineJobTests {
    func harness() throws -> WorkerHarness {
        if let missing = EngineTestModel.missing { Issue.record("\(missing)") }
        return try WorkerHarness(
            queues: [EngineTestModel.pool], catalogPath: try EngineTestModel.catalog(), modelsDir: EngineTestModel.modelsDir,
            sdLibrary: EngineTestModel.libraryPath
        )
    }

    func tinyJob(_ harness: WorkerHarness, _ change: (inout JobRequest) -> Void = { _ in }) -> JobQueued {
        harness.job {
            $0.model = EngineTestModel.modelID
            $0.width = 64
            $0.height = 64
            $0.steps = 2
            $0.seed = 42
            change(&$0)
        }
    }

    @Test func aQueuedSDJobEndsSucceededWithARealEngineImage() async throws {
        let harness = try harness()
        let job = tinyJob(harness) { $0.loras = [JobRequest.LoRA(name: EngineTestModel.loraName, weight: 0.8)] }
        try await harness.enqueue(job)
        let results = try await harness.withWorker { try await harness.results(for: job.jobID, timeout: .seconds(120)) }
        let finished = try harness.finished(results)
        guard case .succeeded(let images) = finished.outcome else { Issue.record("outcome \(finished.outcome)"); return }
        #expect(images.count == 1)
        let image = try #require(images.first)
        #expect(image.engine == "stable-diffusion" && image.width == 64 && image.height == 64 && image.seed == 42)
        let png = try PNGReader(try [UInt8](Data(contentsOf: harness.storage.appendingPathComponent(image.storageKey))))
        #expect(png.width == 64 && png.height == 64)
        #expect(png.text["engine"] == "sdcpp")
        let parameters = try #require(JSONSerialization.jsonObject(with: Data((png.text["parameters"] ?? "").utf8)) as? [String: Any])
        #expect(parameters["model"] as? String == EngineTestModel.modelID)
        #expect((parameters["loras"] as? [[String: Any]])?.first?["name"] as? String == EngineTestModel.loraName)
    }

    @Test func aMissingModelFileFailsTheJobWithItsCodeAndTheWorkerServesTheNextJob() async throws {
        // A catalog whose tiny-sd entry points at a file that is not there, next to a good copy.
        let harness = try harness()
        let catalogPath = try #require(harness.configuration.catalogPath)
        var text = try String(contentsOfFile: catalogPath, encoding: .utf8)
        text = text.replacingOccurrences(of: "\"id\" : \"tiny-sd\"", with: "\"id\" : \"tiny-sd-gone\"")
            .replacingOccurrences(of: "\"checkpoint\" : \"model.ckpt\"", with: "\"checkpoint\" : \"gone.ckpt\"")
        let withMissing = try WorkerHarness(
            queues: [EngineTestModel.pool], catalogPath: try Self.merge(catalogPath, text), modelsDir: EngineTestModel.modelsDir,
            sdLibrary: EngineTestModel.libraryPath
        )
        let broken = tinyJob(withMissing) { $0.model = "tiny-sd-gone" }
        let good = tinyJob(withMissing) { $0.steps = 1 }
        try await withMissing.enqueue(broken)
        try await withMissing.enqueue(good)
        let (brokenResults, goodResults) = try await withMissing.withWorker {
            (try await withMissing.results(for: broken.jobID, timeout: .seconds(60)), try await withMissing.results(for: good.jobID, timeout: .seconds(120)))
        }
        guard case .failed(let code, let message, let retryable) = try withMissing.finished(brokenResults).outcome else {
            Issue.record("the broken job must fail"); return
        }
        #expect(code == "model_not_found" && !retryable, "\(code): \(message)")
        guard case .succeeded(let images) = try withMissing.finished(goodResults).outcome else {
            Issue.record("the worker must stay up and serve the next job"); return
        }
        #expect(images.count == 1 && images[0].engine == "stable-diffusion")
    }

    @Test func aRunningSDJobCanceledByItsOwnerStopsWithinAStep() async throws {
        let harness = try harness()
        let job = tinyJob(harness) { $0.steps = 40 }  // ~10 s of steps at 64x64 on 2 cores
        let subscriber = RedisSubscriber(configuration: RedisConfiguration(url: try TestStack.shared().redisURL), logger: Logger(label: "test"))
        let progress = MessageCollector(try await subscriber.subscribe([harness.keys.jobChannel(job.jobID)]))
        defer { progress.cancel() }
        try await harness.enqueue(job)
        let (results, latency) = try await harness.withWorker {
            // Past the model load (~3 s), well into sampling: the engine has reported two steps.
            try await progress.wait(for: 2, timeout: .seconds(60))
            let canceledAt = ContinuousClock.now
            _ = try await harness.redis.send("SET", harness.keys.canceled(job.jobID), "1")
            let results = try await harness.results(for: job.jobID, timeout: .seconds(60))
            return (results, ContinuousClock.now - canceledAt)
        }
        await subscriber.close()
        #expect(try harness.finished(results).outcome == .canceled)
        #expect(harness.files().isEmpty)
        print("queued sd job: cancel key set -> job.finished(canceled) in \(latency) (poll 250 ms + rest of the step)")
    }

    /// A catalog holding the models of `original` plus those of `extra` (catalog JSON text).
    static func merge(_ original: String, _ extra: String) throws -> String {
        let base = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: original))) as? [String: Any])
        let more = try #require(JSONSerialization.jsonObject(with: Data(extra.utf8)) as? [String: Any])
        var merged = base
        let extraModels = (more["models"] as? [[String: Any]] ?? []).filter { ($0["id"] as? String) == "tiny-sd-gone" }
        merged["models"] = (base["models"] as? [Any] ?? []) + extraModels
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(TestStack.uniqueName("catalog")).json")
        try JSONSerialization.data(withJSONObject: merged).write(to: url)
        return url.path
    }
}
