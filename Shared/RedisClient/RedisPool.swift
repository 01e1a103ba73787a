import Core
import Dispatch
package import Logging
import Synchronization

/// A pool of Redis connections: commands, pipelines, streams, scripts and publishing.
///
/// Ordinary commands (everything that does not block on the server) share one pipelined connection
/// (`RedisPipelinedConnection`): concurrent callers' commands are written back to back and their
/// replies handed back in order, so they never wait for a pooled connection. Blocking commands
/// (`BLPOP`, `XREADGROUP ... BLOCK`, `WAIT`) and connection-state commands (`SUBSCRIBE`, `MULTI`,
/// `WATCH`, `SELECT`) lease a connection of the pool below, as every command did before.
///
/// Connections open lazily, up to `maxConnections`; callers beyond that wait in FIFO order for at most
/// `acquireTimeout` (then `poolTimeout`). A connection whose I/O failed is dropped, never reused. While
/// Redis is unreachable, opening fails with `connectionFailed` and further attempts are refused at once
/// for a backoff window (50 ms doubling to 2 s), so callers fail fast instead of piling up; the first
/// attempt after the window reconnects as soon as Redis is back.
///
/// With sentinels configured (`RedisConfiguration.sentinels`), every new connection goes to the master
/// the sentinels name, verified with `ROLE` (see `RedisConnector`). A failover is followed like this:
/// a connection whose I/O fails, or whose reply is `-READONLY`/`-MASTERDOWN` (the server was demoted
/// to a replica), is dropped and makes the next connection ask the sentinels again; the sentinels'
/// `+switch-master` event (see `RedisSentinelWatcher`) moves new connections at once, even while the old
/// master still runs. Once a different master is known, idle connections to the old one are closed
/// instead of reused, and leased ones when they come back. Sentinel mode caps the backoff at 500 ms,
/// so writes resume within about that after the sentinels promote a replica.
///
/// No command is retried automatically, not even an idempotent one: the command that met the failover
/// fails with `connectionLost`, `timeout` or `.server("READONLY ...")`, and whether to try again (the
/// caller's retry, an outbox relay) is the caller's decision, because a write whose reply was lost may
/// or may not have been applied. Only opening a connection is retried, as nothing has been sent then.
package final class RedisPool: Sendable {
    package let configuration: RedisConfiguration
    let logger: Logger
    let connector: RedisConnector
    private let state = Mutex(PoolState())
    private let waiterIDs = Atomic<Int>(0)
    /// The one connection ordinary commands share.
    let pipelined: RedisPipelinedConnection

    static let initialBackoff: Duration = .milliseconds(50)
    static let maximumBackoff: Duration = .seconds(2)

    package init(configuration: RedisConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        self.connector = RedisConnector(configuration: configuration, logger: logger)
        self.pipelined = RedisPipelinedConnection(connector: connector, commandTimeout: configuration.commandTimeout, logger: logger)
    }

    /// Sends one command and returns its reply; an error reply is thrown as `RedisError.server`.
    package func send(_ arguments: [[UInt8]]) async throws -> RedisValue {
        guard Tracing.isRecording else { return try await sendUntraced(arguments) }
        return try await Tracing.withSpan(Self.spanName(arguments), kind: .client, attributes: ["db.system": "redis"]) { _ in
            try await sendUntraced(arguments)
        }
    }

    private func sendUntraced(_ arguments: [[UInt8]]) async throws -> RedisValue {
        if Self.sharesConnection(arguments) {
            let reply = try await pipelined.send([arguments])[0]
            if case .error(let message) = reply { throw RedisError.server(message) }
            return reply
        }
        let timeout = Self.timeout(for: [arguments], base: configuration.commandTimeout)
        let reply = try await withConnection { connection in
            try await connection.run(timeout: timeout) { context throws(RedisError) in try context.command(arguments) }
        }
        if case .error(let message) = reply { throw RedisError.server(message) }
        return reply
    }

    /// Whether `command` may go on the shared pipelined connection: it neither blocks on the server
    /// nor changes the state of the connection it runs on.
    static func sharesConnection(_ command: [[UInt8]]) -> Bool {
        guard blockingTime(command) == nil, let first = command.first, first.count <= 16 else { return false }
        switch String(decoding: first, as: UTF8.self).uppercased() {
        case "SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "UNSUBSCRIBE", "PUNSUBSCRIBE", "MONITOR", "MULTI", "EXEC", "DISCARD",
             "WATCH", "UNWATCH", "SELECT", "RESET", "QUIT", "CLIENT", "HELLO", "AUTH", "DEBUG":
            return false
        default:
            return true
        }
    }

    /// `redis <COMMAND>`: the command's name only (keys and values may be personal data).
    static func spanName(_ arguments: [[UInt8]]) -> String {
        "redis " + (arguments.first.map { String(decoding: $0.prefix(32), as: UTF8.self).uppercased() } ?? "")
    }

    package func send(_ arguments: [String]) async throws -> RedisValue {
        try await send(arguments.map { Array($0.utf8) })
    }

    package func send(_ arguments: String...) async throws -> RedisValue {
        try await send(arguments)
    }

    /// Sends all commands in one write and reads all replies: one round trip. Error replies stay
    /// in place as `.error`, so one failing command does not hide the others' results.
    package func pipeline(_ commands: [[[UInt8]]]) async throws -> [RedisValue] {
        guard !commands.isEmpty else { return [] }
        let timeout = Self.timeout(for: commands, base: configuration.commandTimeout)
        let shared = commands.allSatisfy(Self.sharesConnection)
        let run = {
            if shared { return try await self.pipelined.send(commands) }
            return try await self.withConnection { connection in
                try await connection.run(timeout: timeout) { context throws(RedisError) in
                    for command in commands { try context.append(command) }
                    var replies: [RedisValue] = []
                    replies.reserveCapacity(commands.count)
                    for _ in commands { replies.append(try context.nextReply()) }
                    return replies
                }
            }
        }
        guard Tracing.isRecording else { return try await run() }
        let attributes: [String: SpanValue] = ["db.system": "redis", "redis.commands": .int(Int64(commands.count))]
        return try await Tracing.withSpan("redis pipeline", kind: .client, attributes: attributes) { _ in try await run() }
    }

    package func pipeline(_ commands: [[String]]) async throws -> [RedisValue] {
        try await pipeline(commands.map { $0.map { Array($0.utf8) } })
    }

    /// `PING`; throws unless the server answers `PONG`. For `/readyz`.
    package func ping() async throws {
        let reply = try await send("PING")
        guard reply == .status("PONG") else { throw RedisError(.protocolError, "PING answered \(reply)") }
    }

    /// Posts `message` to `channel`; returns how many subscribers received it.
    @discardableResult
    package func publish(_ channel: String, _ message: [UInt8]) async throws -> Int {
        try await send([Array("PUBLISH".utf8), Array(channel.utf8), message]).integer()
    }

    @discardableResult
    package func publish(_ channel: String, _ message: String) async throws -> Int {
        try await publish(channel, Array(message.utf8))
    }

    /// Refuses new work, fails every waiter with `poolClosed` and closes idle connections;
    /// connections in use close when their command finishes.
    package func close() async {
        pipelined.close()
        connector.close()
        let (waiters, idle) = state.withLock { state in
            state.closed = true
            defer { state.waiters.removeAll(); state.idle.removeAll() }
            state.open -= state.idle.count
            return (state.waiters, state.idle)
        }
        for waiter in waiters { waiter.continuation.resume(throwing: RedisError(.poolClosed, "pool closed")) }
        _ = idle
    }

    /// Connections of the pool open now (idle, leased or being opened), the pipelined one not counted.
    package var pooledConnections: Int { state.withLock { $0.open } }

    /// Leases a connection for the duration of `body` (used by EVALSHA to retry on the same connection).
    func withConnection<T: Sendable>(_ body: (RedisConnection) async throws -> T) async throws -> T {
        let connection = try await acquire()
        defer { release(connection) }
        return try await body(connection)
    }
}

// MARK: - Leasing

extension RedisPool {
    struct PoolState {
        var idle: [RedisConnection] = []
        /// Connections idle, leased or being opened.
        var open = 0
        var waiters: [Waiter] = []
        var closed = false
        var failures = 0
        var retryAt: ContinuousClock.Instant?
    }

    struct Waiter {
        var id: Int
        var continuation: CheckedContinuation<Lease, any Error>
    }

    enum Lease: Sendable {
        case connection(RedisConnection)
        /// A slot is reserved; the holder opens a new connection.
        case open
    }

    func acquire() async throws -> RedisConnection {
        let id = waiterIDs.wrappingAdd(1, ordering: .relaxed).newValue
        let lease = try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Lease, any Error>) in
                var dead: [RedisConnection] = []
                let immediate = state.withLock { state -> Result<Lease, any Error>? in
                    if state.closed { return .failure(RedisError(.poolClosed, "pool closed")) }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    // Lock order: the pool's state, then the connector's (which never calls back into the pool).
                    while let connection = state.idle.popLast() {
                        if !connection.looksDead && connector.isCurrent(connection.endpoint) { return .success(.connection(connection)) }
                        state.open -= 1
                        dead.append(connection)
                    }
                    if state.open < configuration.maxConnections {
                        if let retryAt = state.retryAt, ContinuousClock.now < retryAt {
                            return .failure(RedisError(.connectionFailed, "server unreachable; next attempt after backoff"))
                        }
                        state.open += 1
                        return .success(.open)
                    }
                    state.waiters.append(Waiter(id: id, continuation: continuation))
                    return nil
                }
                if !dead.isEmpty { logger.debug("redis: dropped \(dead.count) dead or outdated idle connection(s)") }
                if let immediate {
                    continuation.resume(with: immediate)
                } else {
                    let deadline = DispatchTime.now() + .nanoseconds(Self.nanoseconds(configuration.acquireTimeout))
                    DispatchQueue.global().asyncAfter(deadline: deadline) { [self] in
                        resumeWaiter(id, with: .failure(RedisError(
                            .poolTimeout, "all \(configuration.maxConnections) connections busy for \(configuration.acquireTimeout)"
                        )))
                    }
                }
            }
        } onCancel: {
            resumeWaiter(id, with: .failure(CancellationError()))
        }
        switch lease {
        case .connection(let connection):
            return connection
        case .open:
            return try await openConnection()
        }
    }

    private func openConnection() async throws -> RedisConnection {
        do {
            let connection = try await RedisConnection.open(using: connector)
            let recovered = state.withLock { state in
                defer { state.failures = 0; state.retryAt = nil }
                return state.failures > 0
            }
            if recovered { logger.info("redis: connected again", metadata: ["redis_endpoint": "\(connection.endpoint)"]) }
            return connection
        } catch {
            let (waiters, failures) = state.withLock { state in
                state.open -= 1
                state.failures += 1
                let backoff = min(Self.initialBackoff * (1 << min(state.failures - 1, 10)), connector.maximumBackoff)
                state.retryAt = ContinuousClock.now + backoff
                defer { state.waiters.removeAll() }
                return (state.waiters, state.failures)
            }
            if failures == 1 { logger.warning("redis: cannot connect", metadata: ["error": "\(error)"]) }
            for waiter in waiters { waiter.continuation.resume(throwing: error) }
            throw error
        }
    }

    func release(_ connection: RedisConnection) {
        let broken = connection.isFailed
        if broken { connector.forget(connection.endpoint) }
        let outdated = !connector.isCurrent(connection.endpoint)
        let handOff = state.withLock { state -> (Waiter, Lease)? in
            if broken || outdated || state.closed {
                state.open -= 1
                guard !state.closed, !state.waiters.isEmpty else { return nil }
                return (state.waiters.removeFirst(), .open)
            }
            guard !state.waiters.isEmpty else {
                state.idle.append(connection)
                return nil
            }
            return (state.waiters.removeFirst(), .connection(connection))
        }
        if broken { logger.debug("redis: dropped a connection after an I/O error or a replica's reply", metadata: ["redis_endpoint": "\(connection.endpoint)"]) }
        if let (waiter, lease) = handOff { waiter.continuation.resume(returning: lease) }
    }

    /// Resumes a waiter that is still queued (timeout or cancellation); no-op if it was served already.
    private func resumeWaiter(_ id: Int, with result: Result<Lease, any Error>) {
        let waiter = state.withLock { state -> Waiter? in
            guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
            return state.waiters.remove(at: index)
        }
        waiter?.continuation.resume(with: result)
    }

    static func nanoseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        return Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000)
    }
}

extension RedisValue {
    /// The integer of an integer reply, or `protocolError`.
    func integer() throws(RedisError) -> Int {
        guard case .integer(let value) = self else { throw RedisError(.protocolError, "expected an integer, got \(self)") }
        return Int(value)
    }
}
