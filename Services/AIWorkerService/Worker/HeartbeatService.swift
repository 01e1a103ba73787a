import Core
import Foundation
import Logging
import RedisClient
import ServiceKit
import ServiceLifecycle

/// Writes this worker's entry in `pingvas:workers` every few seconds and removes it on shutdown.
///
/// The entry is `{id, queues, models_warm, busy, engine, seen_at}` (plus `engines`, `job_id`);
/// model-router counts an entry older than 30 s as a dead worker.
struct HeartbeatService: Service {
    let redis: RedisPool
    let key: String
    let workerID: String
    let pools: [String]
    let engines: [String: any ImageEngine]
    let primaryEngine: String
    let catalog: ModelCatalog
    let status: WorkerStatus
    let interval: Duration
    let logger: Logger

    struct Heartbeat: Encodable {
        var id: String
        var queues: [String]
        var modelsWarm: [String]
        var busy: Bool
        var engine: String
        var engines: [String]
        var jobID: JobID?
        var seenAt: Date

        enum CodingKeys: String, CodingKey {
            case id, queues, busy, engine, engines
            case modelsWarm = "models_warm"
            case jobID = "job_id"
            case seenAt = "seen_at"
        }
    }

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await beat()
            } catch {
                logger.warning("heartbeat not written", metadata: ["error": "\(error)"])
            }
            await Background.pause(interval)
        }
        _ = try? await redis.send("HDEL", key, workerID)
        logger.info("left the worker registry", metadata: ["worker_id": "\(workerID)"])
    }

    func beat() async throws {
        var warm: [String] = []
        for (id, engine) in engines.sorted(by: { $0.key < $1.key }) {
            warm += await engine.warmModels(among: catalog.modelIDs(engine: id, pools: pools))
        }
        let heartbeat = Heartbeat(
            id: workerID, queues: pools, modelsWarm: warm.sorted(), busy: status.isBusy, engine: primaryEngine,
            engines: engines.keys.sorted(), jobID: status.currentJob, seenAt: Date()
        )
        let json = String(decoding: try WireCodec.encodeBody(heartbeat), as: UTF8.self)
        _ = try await redis.send("HSET", key, workerID, json)
    }
}
