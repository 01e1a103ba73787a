import Logging
import Synchronization

/// Opens connections for a pool or a subscriber: to the URL's host, or to the master the sentinels name.
///
/// Direct mode (no sentinels) parses `url` and connects, exactly as before sentinels existed.
/// Sentinel mode remembers the master it last verified and connects there first; when that fails,
/// or the node is no longer a master, or an owner reported the address stale through `forget`,
/// it asks the sentinels again (see `RedisConnector+Sentinel.swift`). After the first discovery a
/// `RedisSentinelWatcher` follows `+switch-master`, so a master replaced while still running is left
/// at once. Every method may be called from any thread; `connect` blocks and must run off Swift's
/// cooperative pool. `close()` (or the last reference going away) stops the watcher.
final class RedisConnector: Sendable {
    let configuration: RedisConfiguration
    let logger: Logger
    let state = Mutex(DiscoveryState())

    struct DiscoveryState {
        /// The master last verified with `ROLE` or announced by `+switch-master`; `nil` until the first
        /// discovery and after `forget`.
        var master: RedisEndpoint?
        /// Index into `sentinels` of the one that answered last; asked first next time.
        var preferredSentinel = 0
        var watcher: RedisSentinelWatcher?
        var closed = false
    }

    init(configuration: RedisConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    deinit { state.withLock { $0.watcher }?.stop() }

    /// Stops following the sentinels; connections already open are not affected.
    func close() {
        let watcher = state.withLock { state in
            state.closed = true
            defer { state.watcher = nil }
            return state.watcher
        }
        watcher?.stop()
    }

    /// Blocking: opens, authenticates and selects the database on the server to use now.
    /// Throws `connectionFailed` (also for a bad URL or an incomplete sentinel setting) with what
    /// was tried; in sentinel mode the message lists each sentinel's and node's failure.
    func connect() throws(RedisError) -> RedisContext {
        let endpoint: RedisEndpoint
        switch RedisEndpoint.parse(configuration.url) {
        case .success(let parsed): endpoint = parsed
        case .failure(let error): throw error
        }
        guard let target = try configuration.sentinelTarget() else {
            return try RedisContext.connect(
                to: endpoint, connectTimeout: configuration.connectTimeout, commandTimeout: configuration.commandTimeout
            )
        }
        return try connectToMaster(named: target.master, sentinels: target.sentinels, credentials: endpoint)
    }

    /// Marks `endpoint` as no longer the master (its connection broke or answered `READONLY`), so the
    /// next `connect` asks the sentinels. A no-op when another master is known already, and in direct mode.
    func forget(_ endpoint: RedisEndpoint) {
        state.withLock { state in
            if let master = state.master, master.sameServer(as: endpoint) { state.master = nil }
        }
    }

    /// False when `endpoint` is known not to be the master any more: discovery has since found another
    /// one. Connections to it should be closed instead of reused. Always true in direct mode.
    func isCurrent(_ endpoint: RedisEndpoint) -> Bool {
        state.withLock { state in state.master.map { $0.sameServer(as: endpoint) } ?? true }
    }

    /// Longest pause between failed connection attempts. Asking sentinels is cheap and a failover takes
    /// seconds, so sentinel mode retries more often than direct mode (which waits for a restart).
    var maximumBackoff: Duration { configuration.usesSentinels ? .milliseconds(500) : RedisPool.maximumBackoff }
}

extension RedisEndpoint {
    /// Same host and port (credentials and database aside).
    func sameServer(as other: RedisEndpoint) -> Bool { host == other.host && port == other.port }
}
