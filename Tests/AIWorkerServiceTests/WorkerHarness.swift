import Core
import Foundation
import Logging
import RedisClient
import ServiceKit
import ServiceLifecycle
import TestSupport
import Testing
@testable import AIWorkerService

/// A worker (heartbeat + job loop) against the shared test Redis, with its own key prefix and storage folder.
struct WorkerHarness {
    let keys: PipelineKeys
    let redis: RedisPool
    let storage: URL
    var configuration: AIWorkerConfiguration
    let userID = UserID()

    init(
        lease: Duration = .seconds(300), grace: Duration = .seconds(100), queues: [String] = ["cpu-preview"],
        catalogPath: String = TestStack.repositoryRoot.appendingPathComponent("config/models.json").path,
        modelsDir: String = "/models", sdLibrary: String? = nil
    ) throws {
        let servers = try TestStack.shared()
        let prefix = TestStack.uniqueName("aw")
        keys = PipelineKeys(namespace: prefix)
        redis = RedisPool(configuration: RedisConfiguration(url: servers.redisURL), logger: Logger(label: "test"))
        storage = FileManager.default.temporaryDirectory.appendingPathComponent(prefix, isDirectory: true)
        var configuration = AIWorkerConfiguration(
            service: ServiceConfiguration(serviceID: "ai-worker", port: 0, redisURL: servers.redisURL, internalSecret: testInternalSecret),
            queues: queues, storage: StorageConfiguration(backend: .fileSystem(directory: storage.path)), workerID: "\(prefix)-worker", modelsDir: modelsDir,
            catalogPath: catalogPath, jobLease: lease, shutdownGrace: grace
        )
        // Without an explicit library the worker must not pick up the one `make engine` built.
        configuration.sdLibrary = sdLibrary ?? "/nonexistent/libpingvas-sd.so"
        // The engine child is the built ai-worker, as in production (this process is the test runner).
        configuration.engineHostExecutable = ServiceProcess.binDirectory.appendingPathComponent("ai-worker").path
        configuration.keys = keys
        configuration.readBlock = .milliseconds(200)
        configuration.previewStepDelay = .milliseconds(2)
        configuration.heartbeatInterval = .milliseconds(200)
        self.configuration = configuration
    }

    /// A job processor on this harness's queue without engines (for its decisions, not for jobs).
    func processor(maxDeliveries: Int) -> JobProcessor {
        JobProcessor(
            queue: jobQueue, workerID: configuration.workerID, catalog: .builtIn, engines: [:],
            storage: ImageStorageFactory.make(configuration.storage, logger: Logger(label: "test")), modelsDir: "/models",
            status: WorkerStatus(), lease: .seconds(10), shutdownGrace: .seconds(1), logger: Logger(label: "test"), maxDeliveries: maxDeliveries
        )
    }

    /// The pool jobs go to, and the queue they wait in.
    var pool: String { configuration.queues[0] }
    var jobQueue: RedisJobQueue { RedisJobQueue(redis: redis, keys: keys) }

    func job(_ change: (inout JobRequest) -> Void = { _ in }) -> JobQueued {
        var request = JobRequest(model: "preview", prompt: "a lighthouse", width: 96, height: 64, steps: 4, cfgScale: 7, seed: 1234)
        change(&request)
        return JobQueued(jobID: JobID(), userID: userID, plan: .free, request: request, cost: 1, queue: pool, enqueuedAt: Date())
    }

    /// Puts `job` in the queue as generation's relay does (`envelope` overrides its encoding).
    func enqueue(_ job: JobQueued, envelope: String? = nil) async throws {
        try await jobQueue.enqueue(job, envelope: envelope ?? String(decoding: try WireCodec.encode(job), as: UTF8.self))
    }

    /// Where the queue holds `job` now (`waiting`, `active`, `done`, ...; nil: not at all).
    func state(of job: JobID) async throws -> String? {
        try await jobQueue.states([job])[job]
    }

    /// Runs the worker's services around `body`, then shuts them down gracefully.
    func withWorker<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        let services = try AIWorkerServices.make(configuration: configuration, redis: redis, logger: Logger(label: "ai-worker-test"))
        let group = ServiceGroup(configuration: .init(services: services, logger: Logger(label: "ai-worker-test")))
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            defer { tasks.cancelAll() }
            do {
                let result = try await body()
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                return result
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
        }
    }

    /// Result messages for `job` (type, raw envelope), waiting until a `job.finished` arrives.
    func results(for job: JobID, timeout: Duration = .seconds(20), fileID: String = #fileID, line: Int = #line) async throws -> [(type: String, bytes: [UInt8])] {
        try await eventuallyValue(timeout: timeout, pollEvery: .milliseconds(50), "a job.finished for \(job)", fileID: fileID, line: line) {
            let found = try await resultMessages().filter { $0.jobID == job.description }.map { (type: $0.type, bytes: $0.bytes) }
            return found.contains { $0.type == JobFinished.type } ? found : nil
        }
    }

    /// Every message on the results stream so far: its type, the job it names and its raw envelope.
    func resultMessages() async throws -> [(type: String, jobID: String?, bytes: [UInt8])] {
        let entries = try await redis.send("XRANGE", keys.results, "-", "+").array ?? []
        return entries.compactMap { entry in
            guard let pair = entry.array, pair.count == 2, let fields = pair[1].array, fields.count >= 2,
                  let bytes = fields[1].bytes, let header = try? WireCodec.peek(bytes) else { return nil }
            let jobID = (try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
                .flatMap { ($0["data"] as? [String: Any])?["job_id"] as? String }
            return (header.type, jobID, bytes)
        }
    }

    /// Waits until the worker has reported `JobStarted` (any job).
    func waitUntilAJobStarted(timeout: Duration = .seconds(20), fileID: String = #fileID, line: Int = #line) async throws {
        try await eventually(timeout: timeout, "the worker reported JobStarted", fileID: fileID, line: line) {
            (try await redis.send("XLEN", keys.results).int ?? 0) > 0
        }
    }

    func finished(_ results: [(type: String, bytes: [UInt8])]) throws -> JobFinished {
        let bytes = try #require(results.last { $0.type == JobFinished.type }?.bytes)
        return try WireCodec.decode(JobFinished.self, from: bytes).data
    }

    func files() -> [String] {
        let folder = storage.appendingPathComponent(userID.description)
        return ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).sorted()
    }
}
