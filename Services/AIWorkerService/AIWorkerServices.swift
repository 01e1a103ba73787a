import Core
import Logging
import RedisClient
import ServiceKit
import ServiceLifecycle

/// The worker's background services: heartbeat first, job loop last, so on shutdown the loop drains
/// before the worker leaves the registry.
enum AIWorkerServices {
    static func make(configuration: AIWorkerConfiguration, redis: RedisPool, logger: Logger) throws -> [any Service] {
        let catalog = try configuration.catalogPath.map(ModelCatalog.load(path:)) ?? .builtIn
        let engines = makeEngines(configuration: configuration, logger: logger)
        let pools = servablePools(configuration.queues, catalog: catalog, engines: Set(engines.keys))
        for pool in configuration.queues where !pools.contains(pool) {
            // Taking these jobs would only fail them; workers that have the engine will run them.
            logger.warning("not taking jobs from a pool whose models need an engine this worker lacks", metadata: ["pool": "\(pool)"])
        }
        logger.info("engines ready", metadata: [
            "engines": "\(engines.keys.sorted().joined(separator: ","))",
            "models": "\(catalog.models.map(\.id).sorted().joined(separator: ","))",
            "queues": "\(pools.joined(separator: ","))",
        ])
        let status = WorkerStatus()
        let keys = configuration.keys
        let queue = RedisJobQueue(redis: redis, keys: keys)
        let processor = JobProcessor(
            queue: queue, workerID: configuration.workerID, catalog: catalog, engines: engines,
            storage: ImageStorageFactory.make(configuration.storage, logger: logger), modelsDir: configuration.modelsDir, status: status,
            lease: configuration.jobLease, shutdownGrace: configuration.shutdownGrace, logger: logger, maxDeliveries: configuration.maxDeliveries
        )
        let heartbeat = HeartbeatService(
            redis: redis, key: keys.workers, workerID: configuration.workerID, pools: pools, engines: engines,
            primaryEngine: engines["sdcpp"] == nil ? "preview" : "sdcpp", catalog: catalog, status: status, interval: configuration.heartbeatInterval, logger: logger
        )
        let worker = JobWorker(
            queue: queue, pools: pools, workerID: configuration.workerID, processor: processor, status: status,
            lease: configuration.jobLease, maxDeliveries: configuration.maxDeliveries, readBlock: configuration.readBlock, logger: logger
        )
        // With no pool to serve there is no job loop; the heartbeat still says the worker is there.
        return pools.isEmpty ? [heartbeat] : [heartbeat, worker]
    }

    /// The configured pools this worker can serve: those with at least one catalog model whose engine
    /// it has (or no catalog model at all).
    static func servablePools(_ queues: [String], catalog: ModelCatalog, engines: Set<String>) -> [String] {
        queues.filter { pool in
            let models = catalog.models.filter { $0.pool == pool }
            return models.isEmpty || models.contains { engines.contains($0.engine.rawValue) }
        }
    }

    /// The preview engine always; stable-diffusion.cpp when its shim loads (said at start-up either way).
    static func makeEngines(configuration: AIWorkerConfiguration, logger: Logger) -> [String: any ImageEngine] {
        var engines: [String: any ImageEngine] = ["preview": PreviewEngine(stepDelay: configuration.previewStepDelay)]
        let path = StableDiffusionLibrary.resolvePath(configuration.sdLibrary)
        switch StableDiffusionLibrary.load(path: path) {
        case .success(let library):
            StableDiffusionLibrary.setLogger(logger)
            if configuration.engineInChildProcess, let executable = configuration.engineHostExecutable {
                // Loaded here only to know it works; the models live in the child.
                engines["sdcpp"] = ChildProcessEngine(
                    executable: executable, library: path, memoryBudgetMB: configuration.engineMemoryMB,
                    threads: configuration.engineThreads, logger: logger
                )
            } else {
                engines["sdcpp"] = StableDiffusionEngine(
                    library: library, memoryBudgetBytes: UInt64(configuration.engineMemoryMB) << 20,
                    threads: configuration.engineThreads, logger: logger
                )
            }
            logger.info("engine: stable-diffusion.cpp ready", metadata: [
                "library": "\(path)", "version": "\(library.version)",
                "process": "\(engines["sdcpp"] is ChildProcessEngine ? "child" : "in-process")",
            ])
        case .failure(let error):
            logger.notice("engine: preview only", metadata: ["reason": "\(error.message)"])
        }
        return engines
    }
}
