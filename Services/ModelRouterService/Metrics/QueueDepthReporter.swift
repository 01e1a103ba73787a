import Core
import Logging
import Metrics
import ServiceKit
import ServiceLifecycle

/// Exports `pingvas_queue_depth{queue="<pool>"}` (waiting + delayed + running jobs) and
/// `pingvas_queue_waiting{queue="<pool>"}` for every pool of the catalog, every few seconds: the
/// numbers the cluster scales each pool's workers on (down to zero).
struct QueueDepthReporter: Service {
    let queue: RedisJobQueue
    let pools: [String]
    let interval: Duration
    let logger: Logger

    func run() async throws {
        let depth = Dictionary(uniqueKeysWithValues: pools.map { ($0, Gauge(label: "pingvas_queue_depth", dimensions: [("queue", $0)])) })
        let waiting = Dictionary(uniqueKeysWithValues: pools.map { ($0, Gauge(label: "pingvas_queue_waiting", dimensions: [("queue", $0)])) })
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            for pool in pools {
                do {
                    let counts = try await queue.depth(pool: pool)
                    depth[pool]?.record(counts.total)
                    waiting[pool]?.record(counts.waiting)
                } catch {
                    logger.debug("queue depth unavailable", metadata: ["queue": "\(pool)", "error": "\(error)"])
                }
            }
            await Background.pause(interval)
        }
    }
}
