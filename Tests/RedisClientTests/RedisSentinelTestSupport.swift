import RedisClient
import Synchronization
import TestSupport

/// Pools and subscribers that find the master through a `SentinelTopology`'s sentinels.
enum Sentinel {
    /// Only the sentinels and the master name locate Redis; `url` (whose host is ignored) gives the database.
    static func configuration(_ topology: SentinelTopology, url: String = "redis://sentinel-managed/0") -> RedisConfiguration {
        RedisConfiguration(
            url: url, sentinels: topology.sentinels, sentinelMaster: topology.masterName,
            maxConnections: 4, connectTimeout: .seconds(1), commandTimeout: .seconds(2), acquireTimeout: .seconds(2)
        )
    }

    static func pool(_ topology: SentinelTopology, url: String = "redis://sentinel-managed/0", maxConnections: Int = 4) -> RedisPool {
        var configuration = configuration(topology, url: url)
        configuration.maxConnections = maxConnections
        return RedisPool(configuration: configuration, logger: Redis.logger)
    }

    static func subscriber(_ topology: SentinelTopology) -> RedisSubscriber {
        RedisSubscriber(configuration: configuration(topology), logger: Redis.logger)
    }
}

/// Writes `INCR counter`, `XADD stream` and `WAIT 1 1000` in one pipeline (one connection, so WAIT
/// covers both writes) again and again, and logs a write as acknowledged only when all three succeeded
/// and WAIT reported at least one replica: such a write must survive a failover.
final class AcknowledgedWriter: Sendable {
    struct Entry {
        var counter: Int64
        var streamID: String
        var at: ContinuousClock.Instant
    }

    struct Log {
        var entries: [Entry] = []
        var count: Int { entries.count }

        func firstAcknowledged(after instant: ContinuousClock.Instant) -> ContinuousClock.Instant? {
            entries.first { $0.at > instant }?.at
        }
    }

    private let pool: RedisPool
    private let counter: String
    private let stream: String
    private let state = Mutex((log: Log(), failures: 0, stopped: false))

    init(pool: RedisPool, counter: String, stream: String) {
        self.pool = pool
        self.counter = counter
        self.stream = stream
    }

    var log: Log { state.withLock { $0.log } }
    var failures: Int { state.withLock { $0.failures } }
    func stop() { state.withLock { $0.stopped = true } }

    /// Writes until `stop()` or `limit`; a failed attempt is counted and followed by a 10 ms pause.
    func run(for limit: Duration) async {
        let deadline = ContinuousClock.now + limit
        var attempt = 0
        while !state.withLock({ $0.stopped }), ContinuousClock.now < deadline {
            attempt += 1
            let replies = try? await pool.pipeline([
                ["INCR", counter], ["XADD", stream, "*", "attempt", String(attempt)], ["WAIT", "1", "1000"],
            ])
            if let replies, replies.count == 3, case .integer(let value) = replies[0], case .bulk(let id) = replies[1],
                case .integer(let replicas) = replies[2], replicas >= 1
            {
                let entry = Entry(counter: value, streamID: String(decoding: id, as: UTF8.self), at: .now)
                state.withLock { $0.log.entries.append(entry) }
            } else {
                state.withLock { $0.failures += 1 }
                try? await Task.sleep(for: .milliseconds(10))
            }
        }
    }
}
