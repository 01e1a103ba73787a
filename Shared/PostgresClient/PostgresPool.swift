import Dispatch
package import Logging
import Synchronization

/// A bounded pool of PostgreSQL connections, opened lazily and shared by all tasks of a service.
///
/// Connections are created on demand up to `maxConnections`; further callers wait in FIFO order
/// for at most `acquireTimeout` (`.poolTimeout`). A connection that broke, or that comes back
/// inside a transaction, is closed and its slot reused, so the pool recovers on its own after a
/// server restart: while the server is down acquiring fails fast with `.connectionFailed`.
package final class PostgresPool: Sendable {
    package let configuration: PostgresConfiguration
    let logger: Logger
    private let state = Mutex(PoolState())

    package init(configuration: PostgresConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Leases a connection for `body` and returns it to the pool afterwards, also when `body` throws.
    nonisolated(nonsending) package func withConnection<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await withConnection(acquireTimeout: configuration.acquireTimeout, body)
    }

    nonisolated(nonsending) func withConnection<T: Sendable>(
        acquireTimeout: Duration, _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        let connection = try await acquire(timeout: acquireTimeout)
        do {
            let value = try await body(connection)
            await release(connection)
            return value
        } catch {
            await release(connection)
            throw error
        }
    }

    /// Runs one statement on a pooled connection.
    package func query(_ sql: String, _ parameters: [any PostgresBindable]) async throws -> PostgresRows {
        try await withConnection { try await $0.query(sql, parameters) }
    }

    package func query(_ sql: String, _ parameters: any PostgresBindable...) async throws -> PostgresRows {
        try await query(sql, parameters)
    }

    /// Runs one statement on a pooled connection and returns the number of affected rows.
    @discardableResult
    package func execute(_ sql: String, _ parameters: [any PostgresBindable]) async throws -> Int {
        try await query(sql, parameters).affectedRows
    }

    @discardableResult
    package func execute(_ sql: String, _ parameters: any PostgresBindable...) async throws -> Int {
        try await query(sql, parameters).affectedRows
    }

    /// `SELECT 1` with a short acquire timeout; for readiness checks.
    package func ping() async throws {
        try await withConnection(acquireTimeout: min(configuration.acquireTimeout, .seconds(2))) { connection in
            _ = try await connection.query("SELECT 1", [])
        }
    }

    /// Closes idle connections and fails waiters; leased connections close when returned.
    /// Later calls throw `.poolClosed`.
    package func close() async {
        let (idle, waiters) = state.withLock { state in
            state.closed = true
            let idle = state.idle
            let waiters = state.waiters
            state.idle = []
            state.waiters = []
            state.open -= idle.count
            return (idle, waiters)
        }
        for waiter in waiters { waiter.continuation.resume(throwing: Self.closedError) }
        for connection in idle { connection.close() }
    }

    // MARK: - Leasing

    private static let closedError = PostgresError(.poolClosed, message: "the connection pool is closed")

    private func acquire(timeout: Duration) async throws -> PostgresConnection {
        while true {
            switch try await lease(timeout: timeout) {
            case .connection(let connection):
                if connection.isReusable() { return connection }
                logger.debug("discarding broken idle postgres connection", metadata: ["connection": "\(connection.id)"])
                await discard(connection)
            case .create(let id):
                do {
                    let connection = try await PostgresConnection.connect(configuration, id: id, logger: logger)
                    logger.debug("opened postgres connection", metadata: ["connection": "\(id)"])
                    return connection
                } catch {
                    logger.debug("could not open postgres connection", metadata: ["error": "\(error)"])
                    releaseSlot()
                    throw error
                }
            }
        }
    }

    /// An idle connection, a permission to open one, or a place in the FIFO queue.
    private func lease(timeout: Duration) async throws -> Lease {
        let waiterID = state.withLock { $0.makeID() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Lease, any Error>) in
                let immediate: Result<Lease, any Error>? = state.withLock { state in
                    if state.closed { return .failure(Self.closedError) }
                    if let connection = state.idle.popLast() { return .success(.connection(connection)) }
                    if state.open < configuration.maxConnections {
                        state.open += 1
                        return .success(.create(state.makeID()))
                    }
                    // Checked under the lock: a cancellation handler that ran before this point
                    // found no waiter to remove, but it set the flag we read here.
                    if Task.isCancelled { return .failure(CancellationError()) }
                    state.waiters.append(Waiter(id: waiterID, continuation: continuation))
                    return nil
                }
                if let immediate {
                    continuation.resume(with: immediate)
                    return
                }
                DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(Int(timeout.milliseconds))) { [weak self] in
                    self?.failWaiter(waiterID, PostgresError(
                        .poolTimeout,
                        message: "no connection available within \(timeout) (max \(self?.configuration.maxConnections ?? 0))"))
                }
            }
        } onCancel: {
            failWaiter(waiterID, CancellationError())
        }
    }

    private func failWaiter(_ id: Int, _ error: any Error) {
        let waiter = state.withLock { state -> Waiter? in
            guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
            return state.waiters.remove(at: index)
        }
        waiter?.continuation.resume(throwing: error)
    }

    private func release(_ connection: PostgresConnection) async {
        guard connection.isReusable() else {
            logger.debug("closing postgres connection that is broken or inside a transaction", metadata: ["connection": "\(connection.id)"])
            await discard(connection)
            return
        }
        let handOff = state.withLock { state -> (Waiter?, close: Bool) in
            if state.closed {
                state.open -= 1
                return (nil, true)
            }
            if !state.waiters.isEmpty { return (state.waiters.removeFirst(), false) }
            state.idle.append(connection)
            return (nil, false)
        }
        if let waiter = handOff.0 { waiter.continuation.resume(returning: .connection(connection)) }
        if handOff.close { connection.close() }
    }

    private func discard(_ connection: PostgresConnection) async {
        connection.close()
        releaseSlot()
    }

    /// Gives up one connection slot; a waiter, if any, gets it to open a new connection.
    private func releaseSlot() {
        let waiter = state.withLock { state -> (Waiter, Int)? in
            state.open -= 1
            guard !state.closed, !state.waiters.isEmpty else { return nil }
            state.open += 1
            return (state.waiters.removeFirst(), state.makeID())
        }
        if let (waiter, id) = waiter { waiter.continuation.resume(returning: .create(id)) }
    }
}

private enum Lease: Sendable {
    case connection(PostgresConnection)
    case create(Int)
}

private struct Waiter: Sendable {
    let id: Int
    let continuation: CheckedContinuation<Lease, any Error>
}

private struct PoolState: Sendable {
    var idle: [PostgresConnection] = []
    /// Connections open or being opened, leased or idle.
    var open = 0
    var waiters: [Waiter] = []
    var closed = false
    private var lastID = 0

    mutating func makeID() -> Int {
        lastID += 1
        return lastID
    }
}
