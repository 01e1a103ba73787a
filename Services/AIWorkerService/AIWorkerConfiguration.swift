import Core
import Foundation
import ServiceKit

/// Everything the ai-worker service reads from the environment.
struct AIWorkerConfiguration: ServiceConfigurationProtocol {
    var service: ServiceConfiguration
    /// `PINGVAS_WORKER_QUEUES`: pools to take jobs from (comma-separated; default `cpu-preview`).
    var queues: [String]
    /// Where PNGs go, as `<user id>/<image id>.png`: `PINGVAS_STORAGE_URL` (`file:///path`,
    /// `s3://bucket/prefix`), or the folder `PINGVAS_STORAGE_DIR`; the same settings as gallery's.
    var storage: StorageConfiguration
    /// `PINGVAS_WORKER_ID`: consumer name and registry key (default host name + pid).
    var workerID: String
    /// `PINGVAS_MODELS_DIR`: where catalog file paths are resolved (default `/models`).
    var modelsDir: String
    /// `PINGVAS_MODEL_CATALOG`: the catalog file; optional, without it only the `preview` model is known.
    var catalogPath: String?
    /// `PINGVAS_JOB_LEASE`: how long a job stays this worker's without a renewal (renewed every third
    /// of it while the job runs); a job whose worker died is requeued once it runs out (default 10s).
    var jobLease: Duration
    /// `PINGVAS_JOB_MAX_DELIVERIES`: a job whose lease ran out this many times is dead (default 3).
    var maxDeliveries: Int = 3
    /// `PINGVAS_WORKER_SHUTDOWN_GRACE`: on SIGTERM, how long the running job may still take before it is
    /// handed back unacknowledged (default 100s: inside the 2-minute spot-node drain).
    var shutdownGrace: Duration
    /// `PINGVAS_SD_LIBRARY`: the engine shim `make engine` builds (`libpingvas-sd.so`); unset: the first of
    /// `/opt/pingvas/engine/lib/libpingvas-sd.so` and `.run/engine/lib/libpingvas-sd.so` that exists.
    /// Absent: the worker serves the preview engine only.
    var sdLibrary: String?
    /// `PINGVAS_ENGINE_MEMORY_MB`: memory the loaded models may take together (default 12000); idle
    /// models are evicted least recently used first to make room.
    var engineMemoryMB: Int = 12000
    /// `PINGVAS_ENGINE_THREADS`: CPU threads per generation (0 = the library's choice, the physical cores).
    var engineThreads: Int = 0
    /// Whether stable-diffusion.cpp runs in a child process (`ai-worker engine-host`), so an abort in
    /// the library fails one job (`engine_crashed`) instead of ending the worker. On by default; off
    /// only for tests of the in-process engine.
    var engineInChildProcess = true
    /// The executable started as the engine child: this process's own binary when it is `ai-worker`
    /// (tests, whose process is the test runner, set the built `ai-worker`).
    var engineHostExecutable: String? = ChildProcessEngine.ownExecutable
    /// How often the heartbeat is written (the registry counts 30 s of silence as dead).
    var heartbeatInterval: Duration = .seconds(5)
    /// How long one XREADGROUP waits for a job.
    var readBlock: Duration = .seconds(2)
    /// `PINGVAS_PREVIEW_STEP_DELAY`: per-step pause of the preview engine (default 10ms), so a
    /// preview job takes about as long as its steps say; fault tests make it longer.
    var previewStepDelay: Duration = .milliseconds(10)
    /// Redis names; only tests change the prefix.
    var keys = PipelineKeys()

    init(reader: inout ConfigurationReader) {
        service = .read(serviceID: "ai-worker", defaultPort: 8086, needsDatabase: false, needsRedis: true, from: &reader)
        let pools = reader.string("PINGVAS_WORKER_QUEUES", default: "cpu-preview")
        queues = Self.parseQueues(pools)
        if queues.isEmpty || queues.contains(where: { $0.range(of: "^[a-z0-9][a-z0-9-]{0,62}$", options: .regularExpression) == nil }) {
            reader.reject("PINGVAS_WORKER_QUEUES", because: "comma-separated pool names of lower-case letters, digits and -")
        }
        storage = StorageConfiguration.read(from: &reader)
        workerID = reader.string("PINGVAS_WORKER_ID", default: ServiceConfiguration.instanceName)
        modelsDir = reader.string("PINGVAS_MODELS_DIR", default: "/models")
        catalogPath = reader.optionalString("PINGVAS_MODEL_CATALOG")
        jobLease = reader.duration("PINGVAS_JOB_LEASE", default: .seconds(10))
        maxDeliveries = reader.int("PINGVAS_JOB_MAX_DELIVERIES", default: 3)
        if maxDeliveries < 1 { reader.reject("PINGVAS_JOB_MAX_DELIVERIES", because: "at least 1") }
        shutdownGrace = reader.duration("PINGVAS_WORKER_SHUTDOWN_GRACE", default: .seconds(100))
        if jobLease < .seconds(1) { reader.reject("PINGVAS_JOB_LEASE", because: "at least 1s") }
        previewStepDelay = reader.duration("PINGVAS_PREVIEW_STEP_DELAY", default: .milliseconds(10))
        sdLibrary = reader.optionalString("PINGVAS_SD_LIBRARY")
        engineMemoryMB = reader.int("PINGVAS_ENGINE_MEMORY_MB", default: 12000)
        if engineMemoryMB < 256 { reader.reject("PINGVAS_ENGINE_MEMORY_MB", because: "at least 256") }
        engineThreads = reader.int("PINGVAS_ENGINE_THREADS", default: 0)
        if engineThreads < 0 { reader.reject("PINGVAS_ENGINE_THREADS", because: "0 (automatic) or more") }
    }

    init(service: ServiceConfiguration, queues: [String], storage: StorageConfiguration, workerID: String, modelsDir: String = "/models",
         catalogPath: String? = nil, jobLease: Duration = .seconds(10), shutdownGrace: Duration = .seconds(100)) {
        self.service = service
        self.queues = queues
        self.storage = storage
        self.workerID = workerID
        self.modelsDir = modelsDir
        self.catalogPath = catalogPath
        self.jobLease = jobLease
        self.shutdownGrace = shutdownGrace
    }

    static func parseQueues(_ text: String) -> [String] {
        var seen: [String] = []
        for part in text.split(separator: ",") {
            let pool = part.trimmingCharacters(in: .whitespaces)
            if !pool.isEmpty, !seen.contains(pool) { seen.append(pool) }
        }
        return seen
    }
}
