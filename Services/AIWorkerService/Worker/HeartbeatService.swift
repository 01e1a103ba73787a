import Core
import Foundation
import Logging
import RedisClient
import ServiceKit
import ServiceLifecycle

/// Writes this worker's entry in `pingvas:workers` every few seconds and removes it on shutdown.
///
/// The entry is a `WorkerHeartbeat`: pools, warm models, busy state, the running job and memory;
/// model-router and generation count an entry older than 30 s as a dead worker.
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
        let heartbeat = WorkerHeartbeat(
            id: workerID, queues: pools, modelsWarm: await warmModels(engines: engines, catalog: catalog, pools: pools),
            busy: status.isBusy, engine: primaryEngine, engines: engines.keys.sorted(), jobID: status.currentJob,
            memory: HostMemory.current(children: await childMemory()), seenAt: Date()
        )
        let json = String(decoding: try WireCodec.encodeBody(heartbeat), as: UTF8.self)
        _ = try await redis.send("HSET", key, workerID, json)
    }

    /// What the engines' child processes hold (their loaded models live there).
    private func childMemory() async -> UInt64 {
        var total: UInt64 = 0
        for engine in engines.values { total += await engine.residentBytes() }
        return total
    }
}

/// The catalog models of `pools` that one of `engines` has loaded, sorted: what the heartbeat
/// reports and what the worker asks the queue to prefer.
func warmModels(engines: [String: any ImageEngine], catalog: ModelCatalog, pools: [String]) async -> [String] {
    var warm: [String] = []
    for (id, engine) in engines.sorted(by: { $0.key < $1.key }) {
        warm += await engine.warmModels(among: catalog.modelIDs(engine: id, pools: pools))
    }
    return warm.sorted()
}

/// The host's memory as Linux reports it: this process's resident set plus its engine children's
/// (`children`), and what the host has available and in total (`/proc`); nil where `/proc` cannot be read.
enum HostMemory {
    static func current(children: UInt64 = 0) -> WorkerHeartbeat.Memory? {
        guard let meminfo = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
              let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        else { return nil }
        guard let available = ProcessStatus.field("MemAvailable", in: meminfo), let total = ProcessStatus.field("MemTotal", in: meminfo) else { return nil }
        let resident = ProcessStatus.field("VmRSS", in: status) ?? 0
        return WorkerHeartbeat.Memory(device: "cpu", usedBytes: resident * 1024 + Int64(children), freeBytes: available * 1024, totalBytes: total * 1024)
    }
}
