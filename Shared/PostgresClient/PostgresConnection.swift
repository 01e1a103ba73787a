import CLibPQ
import Core
import Dispatch
import Logging
import Synchronization

/// One open connection, leased from a `PostgresPool` for the duration of a closure.
///
/// libpq runs in non-blocking mode: the leasing task sends each statement and reads its result
/// itself, and between the two waits on the socket through the process's `PostgresReactor` (no
/// thread per connection, no hop to one per statement). Cancelling the calling task while a
/// statement runs sends a PQcancel; the statement then fails with `.queryCanceled` and the
/// connection stays usable. A statement that gets no answer within `deadline` fails `.timeout`
/// and the connection is dropped.
package final class PostgresConnection: Sendable {
    let handle: LibPQConnection
    let logger: Logger
    let id: Int
    /// Every statement's client-side deadline.
    let deadline: Duration
    /// Set when the connection must not go back to the pool (e.g. an advisory unlock failed).
    private let poisoned = Atomic<Bool>(false)
    private let reactor = PostgresReactor.shared

    init(handle: LibPQConnection, id: Int, deadline: Duration = .seconds(60), logger: Logger) {
        self.handle = handle
        self.id = id
        self.deadline = deadline
        self.logger = logger
    }

    static func connect(_ configuration: PostgresConfiguration, id: Int, logger: Logger) async throws(PostgresError) -> PostgresConnection {
        try await connect(configuration, id: id, deadline: configuration.effectiveQueryTimeout, logger: logger)
    }

    /// Opens a connection; libpq's connect blocks (bounded by `connect_timeout`), so it runs on a
    /// thread of its own, never on the cooperative pool. Rare: the pool keeps connections open.
    static func connect(
        _ configuration: PostgresConfiguration, id: Int, deadline: Duration, logger: Logger
    ) async throws(PostgresError) -> PostgresConnection {
        let parameters = try configuration.connectionParameters()
        let secret = configuration.password
        let result: Result<LibPQConnection, PostgresError> = await withCheckedContinuation { continuation in
            // A serial queue of its own: those run on Dispatch's overcommitting threads. The global
            // queue is where Swift's cooperative pool lives on Linux, so a blocked connect there
            // would stall every task of the process.
            DispatchQueue(label: "pingvas.postgres.connect.\(id)").async {
                continuation.resume(returning: Result { () throws(PostgresError) in
                    try LibPQConnection.connect(parameters: parameters, secret: secret)
                })
            }
        }
        return PostgresConnection(handle: try result.get(), id: id, deadline: deadline, logger: logger)
    }

    /// Runs one statement; values travel as `$1...$n` parameters, never inside the SQL (byte
    /// arrays in binary, everything else in PostgreSQL's text input format).
    package func query(_ sql: String, _ parameters: [any PostgresBindable]) async throws(PostgresError) -> PostgresRows {
        try await statement(sql, parameters, cancellable: true)
    }

    /// `query`, optionally deaf to task cancellation (cleanup such as ROLLBACK must still run).
    func statement(_ sql: String, _ parameters: [any PostgresBindable], cancellable: Bool) async throws(PostgresError) -> PostgresRows {
        let values = parameters.map { parameter -> LibPQConnection.Parameter in
            if let bytes = parameter.postgresBinaryBytea { return .binary(bytes, oid: 17) }
            return .text(parameter.postgresText)
        }
        let span = Tracing.startChild(Self.spanName(sql), kind: .client, attributes: ["db.system": "postgresql"])
        do {
            let rows = try await run(cancellable: cancellable) { () async throws(PostgresError) -> PostgresRows in
                try await self.exchange(sql, values)
            }
            span?.end()
            return rows
        } catch {
            span?.fail(error)
            span?.end()
            throw error
        }
    }

    /// One statement through this connection's prepared-statement cache: the first time a text is
    /// seen it is prepared (one extra round trip), afterwards only bound and executed, so the
    /// server parses and plans it once per connection instead of every time.
    private func exchange(_ sql: String, _ values: [LibPQConnection.Parameter]) async throws(PostgresError) -> PostgresRows {
        var name = handle.preparedName(sql)
        if name == nil && handle.shouldPrepare(sql) {
            let fresh = try handle.sendPrepare(sql)
            _ = try await roundTrip()
            handle.remember(sql, as: fresh)
            name = fresh
        }
        do {
            try handle.send(sql, values, prepared: name)
            return try await roundTrip()
        } catch where error.sqlState == "0A000" && name != nil {
            // "cached plan must not change result type": a table changed under the prepared
            // statement (a migration by another replica). Outside a transaction block it simply
            // runs again unprepared; inside one the transaction has failed and says so.
            handle.forgetPrepared(sql)
            guard handle.isIdle else { throw error }
            try handle.send(sql, values, prepared: nil)
            return try await roundTrip()
        }
    }

    /// `db <OPERATION>` (`SELECT`, `INSERT` ...): the statement's first word only, never values.
    static func spanName(_ sql: String) -> String {
        let word = sql.drop { $0 == " " || $0 == "\n" || $0 == "(" }.prefix { $0.isLetter }
        return "db " + (word.isEmpty ? "statement" : word.uppercased())
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
        _ = try await run(cancellable: true) { () async throws(PostgresError) -> PostgresRows in
            try self.handle.sendSimple(sql)
            return try await self.roundTrip()
        }
    }

    /// Runs `exchange` (sends and reads) as one cancellable statement. With `cancellable: false`
    /// task cancellation is ignored.
    private func run(
        cancellable: Bool, _ exchange: () async throws(PostgresError) -> PostgresRows
    ) async throws(PostgresError) -> PostgresRows {
        if cancellable && Task.isCancelled {
            throw PostgresError(.queryCanceled, message: "canceling statement due to task cancellation")
        }
        let handle = handle
        let ticket = StatementTicket()
        let result: Result<PostgresRows, PostgresError> = await withTaskCancellationHandler {
            guard ticket.start() || !cancellable else {
                return .failure(PostgresError(.queryCanceled, message: "canceling statement due to task cancellation"))
            }
            defer { ticket.finish() }
            do throws(PostgresError) {
                return .success(try await exchange())
            } catch {
                return .failure(error)
            }
        } onCancel: {
            guard cancellable else { return }
            // PQcancel opens a socket and waits for the server: not on the cooperative pool (nor on
            // Dispatch's global queue, which is that pool on Linux).
            DispatchQueue(label: "pingvas.postgres.cancel").async { ticket.cancel { handle.sendCancel() } }
        }
        return try result.get()
    }

    /// Flushes what was queued and reads every result: the last one's rows, or the first error.
    /// The deadline counts from here, per round trip.
    private func roundTrip() async throws(PostgresError) -> PostgresRows {
        let deadline = ContinuousClock.now + self.deadline
        try await flush(until: deadline)
        return try await results(until: deadline)
    }

    /// Pushes the queued statement out, waiting while the socket's buffer is full.
    private func flush(until deadline: ContinuousClock.Instant) async throws(PostgresError) {
        while true {
            switch handle.flush() {
            case 0: return
            case 1: try await waitFor(.write, until: deadline)
            default: throw handle.connectionError()
            }
        }
    }

    private func results(until deadline: ContinuousClock.Instant) async throws(PostgresError) -> PostgresRows {
        var rows: PostgresRows?
        var failure: PostgresError?
        while true {
            try await waitFor(.read, until: deadline)
            guard handle.consumeInput() else { throw handle.connectionError() }
            while !handle.isBusy {
                guard let result = handle.nextResult() else {
                    if let failure { throw failure }
                    return rows ?? PostgresRows(columns: [], values: [], affectedRows: 0)
                }
                do throws(PostgresError) {
                    rows = try handle.rows(from: result)
                } catch {
                    if failure == nil { failure = error }
                }
                PQclear(result)
            }
        }
    }

    /// Waits for the socket; past the deadline the connection is given up: a server that stopped
    /// answering cannot cancel anything, and the next statement must not read this one's answer.
    private func waitFor(_ interest: PostgresReactor.Interest, until deadline: ContinuousClock.Instant) async throws(PostgresError) {
        guard await reactor.wait(handle.socket, for: interest, until: deadline) == .timedOut else { return }
        poison()
        logger.warning("PostgreSQL did not answer within the deadline; connection dropped", metadata: ["deadline": "\(self.deadline)"])
        throw PostgresError(.timeout, message: "PostgreSQL did not answer within \(self.deadline)")
    }

    /// Whether this connection may be handed out again (reads what arrived while idle; never waits).
    func isReusable() -> Bool {
        if poisoned.load(ordering: .relaxed) { return false }
        return handle.isReusable()
    }

    /// Marks the connection so the pool closes it instead of reusing it.
    func poison() { poisoned.store(true, ordering: .relaxed) }

    /// Closes the socket.
    func close() {
        reactor.forget(handle.socket)
        handle.finish()
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
