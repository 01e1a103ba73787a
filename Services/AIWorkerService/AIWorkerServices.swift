import Logging
import RedisClient
import ServiceLifecycle

/// The worker's background services: heartbeat first, job loop last, so on shutdown the loop drains
/// before the worker leaves the registry.
enum AIWorkerServices {
    static func make(configuration: AIWorkerConfiguration, redis: RedisPool, logger: Logger) throws -> [any Service] {
        let catalog = try configuration.catalogPath.map(WorkerCatalog.load(path:)) ?? .builtIn
        let engines = makeEngines(configuration: configuration, logger: logger)
        logger.info("engines ready", metadata: [
            "engines": "\(engines.keys.sorted().joined(separator: ","))",
            "models": "\(catalog.models.keys.sorted().joined(separator: ","))",
            "queues": "\(configuration.queues.joined(separator: ","))",
        ])
        let status = WorkerStatus()
        let keys = configuration.keys
        let processor = JobProcessor(
            redis: redis, keys: keys, workerID: configuration.workerID, catalog: catalog, engines: engines,
            storage: FileImageStorage(root: configuration.storageDir), modelsDir: configuration.modelsDir, status: status,
            lease: configuration.jobLease, shutdownGrace: configuration.shutdownGrace, logger: logger
        )
        let heartbeat = HeartbeatService(
            redis: redis, key: keys.workers, workerID: configuration.workerID, pools: configuration.queues, engines: engines,
            primaryEngine: engines["sdcpp"] == nil ? "preview" : "sdcpp", catalog: catalog, status: status, interval: configuration.heartbeatInterval, logger: logger
        )
        let worker = JobWorker(
            redis: redis, streams: configuration.queues.map(keys.queue), workerID: configuration.workerID, processor: processor,
            status: status, lease: configuration.jobLease, readBlock: configuration.readBlock, logger: logger
        )
        return [heartbeat, worker]
    }

    /// The preview engine always; stable-diffusion.cpp when its shim loads (said at start-up either way).
    static func makeEngines(configuration: AIWorkerConfiguration, logger: Logger) -> [String: any ImageEngine] {
        var engines: [String: any ImageEngine] = ["preview": PreviewEngine(stepDelay: configuration.previewStepDelay)]
        let path = StableDiffusionLibrary.resolvePath(configuration.sdLibrary)
        switch StableDiffusionLibrary.load(path: path) {
        case .success(let library):
            StableDiffusionLibrary.setLogger(logger)
            engines["sdcpp"] = StableDiffusionEngine(
                library: library, memoryBudgetBytes: UInt64(configuration.engineMemoryMB) << 20,
                threads: configuration.engineThreads, logger: logger
            )
            logger.info("engine: stable-diffusion.cpp ready", metadata: ["library": "\(path)", "version": "\(library.version)"])
        case .failure(let error):
            logger.notice("engine: preview only", metadata: ["reason": "\(error.message)"])
        }
        return engines
    }
}
