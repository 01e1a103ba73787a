import Synchronization
import TestSupport
@testable import RedisClient

/// Pools and subscribers that find the master through a `SentinelTopology`'s sentinels.
enum Sentinel {
    /// Only the sentinels and the master name locate Redis; `url` (whose host is ignored) gives the database.
    static func configuration(_ topology: SentinelTopology, url: String = "redis://sentinel-managed/0") -> RedisConfiguration {
        RedisConfiguration(
            url: url, sentinels: topology.sentinels, sentinelMaster: topology.masterName,
            maxConnections: 4, connectTimeout: .seconds(1), commandTimeout: .seconds(2), acquireTimeout: .seconds(2)
        )
    }

    /// `followsSwitchEvents: false` leaves the pool only connection failures and READONLY to notice a failover.
    static func pool(
        _ topology: SentinelTopology, url: String = "redis://sentinel-managed/0", maxConnections: Int = 4, followsSwitchEvents: Bool = true
    ) -> RedisPool {
        var configuration = configuration(topology, url: url)
        configuration.maxConnections = maxConnections
        configuration.followsSwitchEvents = followsSwitchEvents
        return RedisPool(configuration: configuration, logger: Redis.logger)
    }

    /// How many clients are subscribed on the sentinels: only `+switch-master` watchers subscribe there.
    static func watchers(_ topology: SentinelTopology) async -> Int {
        var count = 0
        for port in topology.sentinelPorts {
            guard let list = try? await topology.send(port: port, ["CLIENT", "LIST"]).string else { return -1 }
            count += list.split(separator: "\n").filter { $0.contains(" sub=1 ") }.count
        }
        return count
    }

    static func subscriber(_ topology: SentinelTopology) -> RedisSubscriber {
        RedisSubscriber(configuration: configuration(topology), logger: Redis.logger)
    }
}

/// Writes `INCR counter`, `XADD stream` and `WAIT 1 1000` in one pipeline (one connection, so WAIT
/// covers both writes) again and again, and logs every write that succeeded with the number of replicas
/// WAIT reported. A write with at least one (acknowledged) must survive a failover; one with none (the
/// new master has no replica after the old one was killed) was applied but may be lost.
final class AcknowledgedWriter: Sendable {
    struct Entry: CustomStringConvertible {
        var counter: Int64
        var streamID: String
        var replicas: Int64
        var sentAt: ContinuousClock.Instant
        var acknowledged: Bool { replicas >= 1 }
        var description: String { "#\(counter) \(streamID) replicas=\(replicas)" }
    }

    private let pool: RedisPool
    private let counter: String
    private let stream: String
    private let state = Mutex((entries: [Entry](), failures: 0, stopped: false))

    init(pool: RedisPool, counter: String, stream: String) {
        self.pool = pool
        self.counter = counter
        self.stream = stream
    }

    /// Successful writes, in order.
    var entries: [Entry] { state.withLock { $0.entries } }
    var failures: Int { state.withLock { $0.failures } }
    func stop() { state.withLock { $0.stopped = true } }

    /// Writes until `stop()` or `limit`; a failed attempt is counted and followed by a 10 ms pause.
    func run(for limit: Duration) async {
        let deadline = ContinuousClock.now + limit
        var attempt = 0
        while !state.withLock({ $0.stopped }), ContinuousClock.now < deadline {
            attempt += 1
            let sentAt = ContinuousClock.now
            let replies = try? await pool.pipeline([
                ["INCR", counter], ["XADD", stream, "*", "attempt", String(attempt)], ["WAIT", "1", "1000"],
            ])
            if let replies, replies.count == 3, case .integer(let value) = replies[0], case .bulk(let id) = replies[1],
                case .integer(let replicas) = replies[2]
            {
                let entry = Entry(counter: value, streamID: String(decoding: id, as: UTF8.self), replicas: replicas, sentAt: sentAt)
                state.withLock { $0.entries.append(entry) }
            } else {
                state.withLock { $0.failures += 1 }
                try? await Task.sleep(for: .milliseconds(10))
            }
        }
    }
}
