import Dispatch
import Logging
import Synchronization

/// One open connection, leased from a `PostgresPool` for the duration of a closure.
///
/// libpq calls run on the connection's own serial DispatchQueue, never on Swift's cooperative
/// pool. Cancelling the calling task while a statement runs sends a PQcancel; the statement then
/// fails with `.queryCanceled` and the connection stays usable.
package final class PostgresConnection: Sendable {
    let handle: LibPQConnection
    let logger: Logger
    let id: Int
    /// Every statement's client-side deadline.
    let deadline: Duration
    /// Set when the connection must not go back to the pool (e.g. an advisory unlock failed).
    private let poisoned = Atomic<Bool>(false)

    init(handle: LibPQConnection, id: Int, deadline: Duration = .seconds(60), logger: Logger) {
        self.handle = handle
        self.id = id
        self.deadline = deadline
        self.logger = logger
    }

    /// Opens a connection on a fresh serial queue.
    static func connect(_ configuration: PostgresConfiguration, id: Int, logger: Logger) async throws(PostgresError) -> PostgresConnection {
        try await connect(configuration, id: id, deadline: configuration.effectiveQueryTimeout, logger: logger)
    }

    static func connect(
        _ configuration: PostgresConfiguration, id: Int, deadline: Duration, logger: Logger
    ) async throws(PostgresError) -> PostgresConnection {
        let parameters = try configuration.connectionParameters()
        let secret = configuration.password
        let queue = DispatchQueue(label: "pingvas.postgres.connection.\(id)")
        let result: Result<LibPQConnection, PostgresError> = await withCheckedContinuation { continuation in
            queue.async {
                continuation.resume(returning: Result { () throws(PostgresError) in
                    try LibPQConnection.connect(parameters: parameters, secret: secret, queue: queue)
                })
            }
        }
        return PostgresConnection(handle: try result.get(), id: id, deadline: deadline, logger: logger)
    }

    /// Runs one statement; values travel as `$1...$n` text parameters, never inside the SQL.
    package func query(_ sql: String, _ parameters: [any PostgresBindable]) async throws(PostgresError) -> PostgresRows {
        let texts = parameters.map(\.postgresText)
        return try await run { handle throws(PostgresError) in try handle.execute(sql, texts) }
    }

    package func query(_ sql: String, _ parameters: any PostgresBindable...) async throws(PostgresError) -> PostgresRows {
        try await query(sql, parameters)
    }

    /// Runs one statement and returns the number of rows it affected.
    @discardableResult
    package func execute(_ sql: String, _ parameters: [any PostgresBindable]) async throws(PostgresError) -> Int {
        try await query(sql, parameters).affectedRows
    }

    @discardableResult
    package func execute(_ sql: String, _ parameters: any PostgresBindable...) async throws(PostgresError) -> Int {
        try await query(sql, parameters).affectedRows
    }

    /// Runs SQL text that may hold several statements and no parameters (migration files).
    package func simpleExecute(_ sql: String) async throws(PostgresError) {
        try await run { handle throws(PostgresError) in try handle.simpleExecute(sql) }
    }

    /// Runs `body` on the connection's queue, cancelling the statement if the task is cancelled.
    ///
    /// With `cancellable: false` (cleanup such as ROLLBACK), task cancellation is ignored.
    func run<T: Sendable>(
        cancellable: Bool = true, _ body: @escaping @Sendable (LibPQConnection) throws(PostgresError) -> T
    ) async throws(PostgresError) -> T {
        let handle = handle
        if cancellable && Task.isCancelled {
            throw PostgresError(.queryCanceled, message: "canceling statement due to task cancellation")
        }
        let ticket = StatementTicket()
        // The client-side deadline: a server that stopped answering cannot cancel anything, so the
        // socket is shut down under the blocked call, which then returns; the connection is done for.
        let watchdog = Watchdog { ticket.expire { handle.shutdownSocket() } }
        let deadline = deadline
        let result: Result<T, PostgresError> = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                handle.queue.async {
                    guard ticket.start() || !cancellable else {
                        continuation.resume(returning: .failure(
                            PostgresError(.queryCanceled, message: "canceling statement due to task cancellation")))
                        return
                    }
                    DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(Int(deadline.milliseconds)), execute: watchdog.item)
                    let result = Result { () throws(PostgresError) in try body(handle) }
                    watchdog.item.cancel()
                    ticket.finish()
                    continuation.resume(returning: result)
                }
            }
        } onCancel: {
            guard cancellable else { return }
            // PQcancel opens a socket and waits for the server: not on the cooperative pool.
            DispatchQueue.global().async { ticket.cancel { handle.sendCancel() } }
        }
        if ticket.expired {
            poison()
            logger.warning("PostgreSQL did not answer within the deadline; connection dropped", metadata: ["deadline": "\(deadline)"])
            throw PostgresError(.timeout, message: "PostgreSQL did not answer within \(deadline)")
        }
        return try result.get()
    }

    /// Whether this connection may be handed out again; runs the check on the connection's queue.
    func isReusable() async -> Bool {
        if poisoned.load(ordering: .relaxed) { return false }
        let handle = handle
        return await withCheckedContinuation { continuation in
            handle.queue.async { continuation.resume(returning: handle.isReusable()) }
        }
    }

    /// Marks the connection so the pool closes it instead of reusing it.
    func poison() { poisoned.store(true, ordering: .relaxed) }

    /// Closes the socket on the connection's queue.
    func close() async {
        let handle = handle
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            handle.queue.async {
                handle.finish()
                continuation.resume()
            }
        }
    }
}

/// The life of one statement, so a cancel reaches exactly the statement it was meant for.
///
/// `cancel` holds the lock while PQcancel runs, and `finish` takes the same lock, so the next
/// statement on the connection cannot start until the cancel request has been delivered.
final class StatementTicket: Sendable {
    private enum Phase { case pending, running, cancelled, finished }
    private let phase = Mutex(Phase.pending)

    /// Called on the connection's queue before the statement; false if it was cancelled already.
    func start() -> Bool {
        phase.withLock { phase in
            if phase == .cancelled { return false }
            phase = .running
            return true
        }
    }

    func finish() { phase.withLock { $0 = .finished } }

    private let expiredFlag = Atomic<Bool>(false)

    /// Whether the statement ran past its deadline (and its socket was shut down).
    var expired: Bool { expiredFlag.load(ordering: .relaxed) }

    /// At the deadline: runs `shutdown` if the statement is still running (holding the lock, so it
    /// cannot finish, and its connection cannot be closed, meanwhile).
    func expire(_ shutdown: () -> Void) {
        phase.withLock { phase in
            guard phase == .running else { return }
            expiredFlag.store(true, ordering: .relaxed)
            shutdown()
        }
    }

    func cancel(sending send: () -> Void) {
        phase.withLock { phase in
            switch phase {
            case .pending: phase = .cancelled
            case .running: send()
            case .cancelled, .finished: break
            }
        }
    }
}

/// A statement's deadline timer. `@unchecked`: a `DispatchWorkItem` is immutable once made and its
/// `cancel` is thread-safe.
private final class Watchdog: @unchecked Sendable {
    let item: DispatchWorkItem
    init(_ block: @escaping @Sendable () -> Void) { item = DispatchWorkItem(block: block) }
}
