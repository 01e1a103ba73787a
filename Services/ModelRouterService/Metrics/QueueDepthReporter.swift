import Core
import Logging
import Metrics
import RedisClient
import ServiceKit
import ServiceLifecycle

/// Exports, for every pool of the catalog, every few seconds:
/// - `pingvas_queue_depth{queue}` (waiting + delayed + running jobs) and `pingvas_queue_waiting{queue}`:
///   the numbers the cluster scales each pool's workers on (down to zero);
/// - `pingvas_queue_dead{queue}`: jobs out of deliveries, waiting for generation to fail them;
/// - `pingvas_workers{pool,state}` (`busy`, `idle`), `pingvas_workers_models_loaded{pool,model}` (live
///   workers with the model loaded) and `pingvas_workers_memory_bytes{pool,kind}` (`used`, `free`,
///   `total`, summed over the pool's live workers), from the heartbeats;
/// - `pingvas_dead_letters{stream}`: entries on the queue's and the events' dead-letter streams.
struct QueueDepthReporter: Service {
    let queue: RedisJobQueue
    let pools: [String]
    let interval: Duration
    let logger: Logger
    var registry: (any WorkerRegistry)? = nil
    var catalog: ModelCatalog? = nil

    func run() async throws {
        let depth = Dictionary(uniqueKeysWithValues: pools.map { ($0, Gauge(label: "pingvas_queue_depth", dimensions: [("queue", $0)])) })
        let waiting = Dictionary(uniqueKeysWithValues: pools.map { ($0, Gauge(label: "pingvas_queue_waiting", dimensions: [("queue", $0)])) })
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            for pool in pools {
                do {
                    let counts = try await queue.depth(pool: pool)
                    depth[pool]?.record(counts.total)
                    waiting[pool]?.record(counts.waiting)
                    let dead = try await queue.redis.send("ZCARD", "\(queue.keys.jobQueue):\(pool):dead").int ?? 0
                    Gauge(label: "pingvas_queue_dead", dimensions: [("queue", pool)]).record(dead)
                } catch {
                    logger.debug("queue depth unavailable", metadata: ["queue": "\(pool)", "error": "\(error)"])
                }
            }
            await reportWorkers()
            for stream in [queue.keys.queueDeadLetter, queue.keys.eventsDeadLetter] {
                if let length = try? await queue.redis.send("XLEN", stream).int {
                    Gauge(label: "pingvas_dead_letters", dimensions: [("stream", stream)]).record(length)
                }
            }
            await Background.pause(interval)
        }
    }

    private func reportWorkers() async {
        guard let registry, let live = try? await registry.liveWorkers() else { return }
        for pool in pools {
            let serving = live.filter { $0.queues.contains(pool) }
            Gauge(label: "pingvas_workers", dimensions: [("pool", pool), ("state", "busy")]).record(serving.filter(\.busy).count)
            Gauge(label: "pingvas_workers", dimensions: [("pool", pool), ("state", "idle")]).record(serving.filter { !$0.busy }.count)
            for model in catalog?.models.filter({ $0.pool == pool }).map(\.id) ?? [] {
                Gauge(label: "pingvas_workers_models_loaded", dimensions: [("pool", pool), ("model", model)])
                    .record(serving.filter { $0.modelsWarm.contains(model) }.count)
            }
            let memory = serving.compactMap(\.memory)
            Gauge(label: "pingvas_workers_memory_bytes", dimensions: [("pool", pool), ("kind", "used")]).record(memory.map(\.usedBytes).reduce(0, +))
            Gauge(label: "pingvas_workers_memory_bytes", dimensions: [("pool", pool), ("kind", "free")]).record(memory.map(\.freeBytes).reduce(0, +))
            Gauge(label: "pingvas_workers_memory_bytes", dimensions: [("pool", pool), ("kind", "total")]).record(memory.map(\.totalBytes).reduce(0, +))
        }
    }
}
