import Foundation
import Logging
import Synchronization

/// Listens to one sentinel at a time for `+switch-master` of one master name, on a thread of its own.
///
/// Connection failures and `READONLY` only show a failover once the old master is dead or demoted;
/// a master replaced while it still runs (`SENTINEL FAILOVER`, a partition) keeps accepting writes for
/// seconds, and those writes are lost when it is demoted. The event arrives as soon as the sentinels
/// switch, so `onSwitch` can move the connections at once. On every (re)connect the watcher first asks
/// `SENTINEL get-master-addr-by-name` and reports the answer as `.current` (an event missed while
/// disconnected is not lost), then subscribes and reports each event as `.switched`.
/// Sentinels are tried in turn with backoff; the thread stops after `stop()`, within one poll (1 s).
final class RedisSentinelWatcher: Sendable {
    enum Report: Sendable, Equatable {
        /// What the sentinel answered when the watcher connected; it may lag behind a failover.
        case current(host: String, port: Int)
        /// A failover finished: this address is the master now.
        case switched(host: String, port: Int)
    }

    private let sentinels: [RedisSentinelEndpoint]
    private let masterName: String
    private let timeout: Duration
    private let logger: Logger
    private let report: @Sendable (Report) -> Void
    private let wake = WakePipe()
    private let stopped = Atomic<Bool>(false)

    init(
        sentinels: [RedisSentinelEndpoint], masterName: String, timeout: Duration, logger: Logger,
        report: @escaping @Sendable (Report) -> Void
    ) {
        self.sentinels = sentinels
        self.masterName = masterName
        self.timeout = timeout
        self.logger = logger
        self.report = report
    }

    func start() {
        let thread = Thread { [self] in run() }
        thread.name = "redis-sentinel-watcher"
        thread.start()
    }

    func stop() {
        stopped.store(true, ordering: .releasing)
        wake.signal()
    }

    private var isStopped: Bool { stopped.load(ordering: .acquiring) }

    private func run() {
        var next = 0
        var backoff = RedisPool.initialBackoff
        while !isStopped {
            let sentinel = sentinels[next % sentinels.count]
            next += 1
            var subscribed = false
            do {
                try watch(sentinel, subscribed: &subscribed)
            } catch {
                logger.debug("redis: sentinel watcher lost \(sentinel)", metadata: ["error": "\(error)"])
            }
            if isStopped { break }
            if subscribed { backoff = RedisPool.initialBackoff }
            // A full round of failures backs off; a single one moves on to the next sentinel at once.
            if next % sentinels.count == 0 {
                wake.wait(backoff)
                backoff = min(backoff * 2, RedisPool.maximumBackoff)
            }
        }
    }

    /// Follows one sentinel until its connection fails or `stop()`.
    private func watch(_ sentinel: RedisSentinelEndpoint, subscribed: inout Bool) throws(RedisError) {
        let endpoint = RedisEndpoint(host: sentinel.host, port: sentinel.port, username: nil, password: nil, database: 0)
        let context = try RedisContext.connect(to: endpoint, connectTimeout: timeout, commandTimeout: timeout)
        let current = try context.command(["SENTINEL", "get-master-addr-by-name", masterName].map { Array($0.utf8) })
        if let parts = current.array, parts.count == 2, let host = parts[0].string, let port = parts[1].int {
            report(.current(host: host, port: Int(port)))
        }
        try context.append(["SUBSCRIBE", "+switch-master"].map { Array($0.utf8) })
        try context.flush()
        subscribed = true
        var lastTraffic = ContinuousClock.now
        var pingSentAt: ContinuousClock.Instant?
        while !isStopped {
            while let reply = try context.bufferedReply() {
                lastTraffic = .now
                pingSentAt = nil
                handle(reply)
            }
            var descriptors = [
                pollfd(fd: context.fileDescriptor, events: Int16(POLLIN), revents: 0),
                pollfd(fd: wake.readDescriptor, events: Int16(POLLIN), revents: 0),
            ]
            if poll(&descriptors, 2, 1000) < 0 && errno != EINTR { throw RedisError(.connectionLost, "poll failed: errno \(errno)") }
            if descriptors[1].revents != 0 { wake.drain() }
            if descriptors[0].revents != 0 { try context.readAvailable() }
            let now = ContinuousClock.now
            if let pingSentAt, now - pingSentAt > timeout + .seconds(1) {
                throw RedisError(.timeout, "\(sentinel): no answer to PING")
            } else if pingSentAt == nil, now - lastTraffic > RedisSubscriber.idlePing {
                try context.append([Array("PING".utf8)])
                try context.flush()
                pingSentAt = now
            }
        }
    }

    /// `message +switch-master "<name> <old-ip> <old-port> <new-ip> <new-port>"`, for our master only.
    private func handle(_ reply: RedisValue) {
        guard let parts = reply.array, parts.count == 3, parts[0].string == "message", let text = parts[2].string else { return }
        let words = text.split(separator: " ").map(String.init)
        guard words.count == 5, words[0] == masterName, let port = Int(words[4]) else { return }
        logger.info("redis: sentinels switched the master", metadata: ["master": "\(masterName)", "from": "\(words[1]):\(words[2])", "to": "\(words[3]):\(port)"])
        report(.switched(host: words[3], port: port))
    }
}
