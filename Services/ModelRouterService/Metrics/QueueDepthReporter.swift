import Core
import Logging
import Metrics
import RedisClient
import ServiceLifecycle

/// Exports `pingvas_queue_depth{queue="pingvas:queue:<pool>"}` for every pool of the catalog, every few seconds.
///
/// Depth counts jobs not yet acknowledged: waiting in the stream (the `workers` group's lag) plus
/// delivered and still running (its pending count). Before any worker created the group every entry
/// is waiting, so the depth is the stream's length. This is the number the cluster scales GPU pools on.
struct QueueDepthReporter: Service {
    let redis: RedisPool
    let streams: [String]
    let interval: Duration
    let logger: Logger

    func run() async throws {
        let gauges = Dictionary(uniqueKeysWithValues: streams.map { stream in
            (stream, Gauge(label: "pingvas_queue_depth", dimensions: [("queue", stream)]))
        })
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            for stream in streams {
                do {
                    gauges[stream]?.record(try await depth(of: stream))
                } catch {
                    logger.debug("queue depth unavailable", metadata: ["queue": "\(stream)", "error": "\(error)"])
                }
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }

    /// Lag + pending of the `workers` group, or the stream length when there is no group yet.
    func depth(of stream: String) async throws -> Int {
        let groups: RedisValue
        do {
            groups = try await redis.send("XINFO", "GROUPS", stream)
        } catch let error as RedisError where error.serverCode == "ERR" {
            return 0  // no such stream: nothing was ever queued
        }
        for group in groups.array ?? [] {
            let info = Self.pairs(group)
            guard info["name"]?.string == PipelineKeys.workerGroup else { continue }
            let pending = Int(info["pending"]?.int ?? 0)
            if let lag = info["lag"]?.int { return Int(lag) + pending }
            // Lag is unknown when entries were deleted inside the unread range; fall back to an upper bound.
            return Int(try await redis.send("XLEN", stream).int ?? 0)
        }
        return Int(try await redis.send("XLEN", stream).int ?? 0)
    }

    private static func pairs(_ value: RedisValue) -> [String: RedisValue] {
        let flat = value.array ?? []
        var result: [String: RedisValue] = [:]
        var index = 0
        while index + 1 < flat.count {
            if let key = flat[index].string { result[key] = flat[index + 1] }
            index += 2
        }
        return result
    }
}
