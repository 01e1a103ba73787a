/// Where Redis is and how long to wait for it.
///
/// `url` is `redis://[[user]:password@]host[:port][/db]`; the password may be percent-encoded.
/// Parsing happens when a connection is opened, so a bad URL surfaces as `connectionFailed`
/// from the first command, never as a crash at start-up. `description` hides the password.
///
/// With `sentinels` set (Redis Sentinel), the master is found by asking the sentinels for
/// `sentinelMaster` and checking the answer with `ROLE`; `url` then only supplies the user,
/// password and database, and its host and port are ignored, never connected to (not even as a
/// fallback while no sentinel answers: a stale address could be a demoted master). Any valid URL
/// will do, e.g. `redis://:secret@mymaster/0`. See `RedisPool` for how a failover is followed.
package struct RedisConfiguration: Sendable, CustomStringConvertible {
    package var url: String
    /// The sentinels to ask for the master, tried in turn; empty: connect to `url` directly.
    package var sentinels: [RedisSentinelEndpoint]
    /// The name the sentinels monitor the master under (`sentinel monitor <name> ...`); required with `sentinels`.
    package var sentinelMaster: String?
    package var maxConnections: Int
    package var connectTimeout: Duration
    /// How long one command (or one pipeline) may take; blocking commands add their own BLOCK/timeout.
    package var commandTimeout: Duration
    /// How long `RedisPool` waits for a free connection when all `maxConnections` are busy.
    package var acquireTimeout: Duration
    /// Connect and reply timeout for each question to one sentinel; an unreachable sentinel is skipped after it.
    package var sentinelTimeout: Duration
    /// Whether pools and subscribers follow the sentinels' `+switch-master` events. Internal, for tests
    /// of the fallback: `false` leaves a failover to be noticed by connection failures and `READONLY`.
    var followsSwitchEvents = true

    package init(
        url: String,
        sentinels: [RedisSentinelEndpoint] = [],
        sentinelMaster: String? = nil,
        maxConnections: Int = 10,
        connectTimeout: Duration = .seconds(2),
        commandTimeout: Duration = .seconds(5),
        acquireTimeout: Duration = .seconds(5),
        sentinelTimeout: Duration = .milliseconds(500)
    ) {
        self.url = url
        self.sentinels = sentinels
        self.sentinelMaster = sentinelMaster
        self.maxConnections = max(1, maxConnections)
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.acquireTimeout = acquireTimeout
        self.sentinelTimeout = sentinelTimeout
    }

    /// True when the master is found through `sentinels`.
    package var usesSentinels: Bool { !sentinels.isEmpty }

    /// Checks what can be checked without a network: the URL parses, and sentinels and master name
    /// come together. Throws `connectionFailed` (the kind a bad URL has always surfaced as) saying what
    /// is wrong; for start-up code that wants to refuse a bad setting at once instead of failing on
    /// the first command.
    package func validate() throws(RedisError) {
        if case .failure(let error) = RedisEndpoint.parse(url) { throw error }
        _ = try sentinelTarget()
    }

    /// The sentinels and master name when sentinels are configured, `nil` for a direct connection.
    func sentinelTarget() throws(RedisError) -> (sentinels: [RedisSentinelEndpoint], master: String)? {
        let master = sentinelMaster?.trimmingSpaces ?? ""
        switch (sentinels.isEmpty, master.isEmpty) {
        case (true, true): return nil
        case (false, false): return (sentinels, master)
        case (false, true): throw RedisError(.connectionFailed, "sentinels are configured but no sentinel master name")
        case (true, false): throw RedisError(.connectionFailed, "a sentinel master name ('\(master)') is configured but no sentinels")
        }
    }

    package var description: String {
        let target: String
        switch RedisEndpoint.parse(url) {
        case .success(let endpoint) where usesSentinels:
            let names = sentinels.map(\.description).joined(separator: ",")
            target = "master '\(sentinelMaster ?? "")' via sentinels \(names), database \(endpoint.database)"
        case .success(let endpoint): target = "\(endpoint)"
        case .failure: target = "invalid url"
        }
        return "RedisConfiguration(\(target), maxConnections: \(maxConnections))"
    }
}
