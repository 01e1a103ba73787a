import CLibPQ
import Dispatch
import Foundation
import Glibc
import Synchronization

/// Owns one `PGconn` (and its `PGcancel`); every blocking libpq call on it runs on `queue`.
///
/// Methods without `async` block and must only be called from blocks on `queue`.
final class LibPQConnection: @unchecked Sendable {
    // @unchecked: `connection` is read and written only from blocks running on `queue`, which is
    // serial, and from deinit, when no block can still hold `self`. `cancelHandle` never changes
    // after init, is only passed to PQcancel (documented thread-safe) and is freed in deinit.
    let queue: DispatchQueue
    private var connection: OpaquePointer?
    private let cancelHandle: OpaquePointer?
    private let secret: String?

    private init(queue: DispatchQueue, connection: OpaquePointer, secret: String?) {
        self.queue = queue
        self.connection = connection
        self.cancelHandle = PQgetCancel(connection)
        self.secret = secret
        self.socket = PQsocket(connection)
    }

    deinit {
        if let cancelHandle { PQfreeCancel(cancelHandle) }
        if let connection { PQfinish(connection) }
    }

    /// Opens a connection (blocking, bounded by `connect_timeout`); call on `queue`.
    static func connect(parameters: [(String, String)], secret: String?, queue: DispatchQueue) throws(PostgresError) -> LibPQConnection {
        let connection = withCStrings(parameters.map(\.0)) { keywords in
            withCStrings(parameters.map(\.1)) { values in
                PQconnectdbParams(keywords, values, 1)
            }
        }
        guard let connection else { throw PostgresError(.connectionFailed, message: "libpq could not allocate a connection") }
        guard PQstatus(connection) == CONNECTION_OK else {
            let error = PostgresError.libpq(connection: connection, result: nil, connecting: true, secret: secret)
            PQfinish(connection)
            throw error
        }
        // Without this libpq prints NOTICEs ("schema already exists, skipping") to stderr.
        PQsetNoticeProcessor(connection, { _, _ in }, nil)
        return LibPQConnection(queue: queue, connection: connection, secret: secret)
    }

    /// Runs one statement with text parameters through PQexecParams and copies the result out.
    func execute(_ sql: String, _ parameters: [String?]) throws(PostgresError) -> PostgresRows {
        let connection = try open()
        for (index, parameter) in parameters.enumerated() where parameter?.utf8.contains(0) == true {
            throw PostgresError(.other("22021"), message: "parameter $\(index + 1) contains a NUL character", sqlState: "22021")
        }
        let result = withCStrings(parameters) { values in
            PQexecParams(connection, sql, Int32(parameters.count), nil, values, nil, nil, 0)
        }
        defer { PQclear(result) }
        return try rows(from: result)
    }

    /// Runs SQL text that may hold several statements (PQexec, no parameters).
    func simpleExecute(_ sql: String) throws(PostgresError) {
        let connection = try open()
        let result = PQexec(connection, sql)
        defer { PQclear(result) }
        _ = try rows(from: result)
    }

    /// Whether the connection can go back to the pool: open, healthy and outside any transaction.
    ///
    /// Reads what the server sent while idle (PQconsumeInput never blocks), so a connection the
    /// server closed during a restart is noticed here instead of failing the next query.
    func isReusable() -> Bool {
        guard let connection else { return false }
        // One read returns the server's goodbye (FATAL 57P01), the next one sees the EOF.
        for _ in 0..<3 where PQconsumeInput(connection) == 0 { return false }
        return PQstatus(connection) == CONNECTION_OK && PQtransactionStatus(connection) == PQTRANS_IDLE
    }

    /// Closes the connection now rather than when the last reference goes away.
    func finish() {
        if let connection { PQfinish(connection) }
        connection = nil
    }

    /// The connection's socket, or -1.
    let socket: Int32

    /// Shuts the socket down in both directions, from any thread: a libpq call blocked on it returns
    /// with an error at once. Only while a statement runs (see `StatementTicket.expire`), so the
    /// descriptor cannot have been closed and reused meanwhile.
    func shutdownSocket() {
        if socket >= 0 { _ = Glibc.shutdown(socket, Int32(SHUT_RDWR)) }
    }

    /// Asks the server to cancel the running statement; blocks for a round trip, call off the cooperative pool.
    func sendCancel() {
        guard let cancelHandle else { return }
        var buffer = [CChar](repeating: 0, count: 256)
        _ = PQcancel(cancelHandle, &buffer, Int32(buffer.count))
    }

    private func open() throws(PostgresError) -> OpaquePointer {
        guard let connection else { throw PostgresError(.connectionLost, message: "connection is closed") }
        return connection
    }

    private func rows(from result: OpaquePointer?) throws(PostgresError) -> PostgresRows {
        let status = result.map(PQresultStatus) ?? PGRES_FATAL_ERROR
        guard status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK || status == PGRES_EMPTY_QUERY, let result else {
            throw PostgresError.libpq(connection: connection, result: result, secret: secret)
        }
        let rowCount = PQntuples(result)
        let columnCount = PQnfields(result)
        let columns = (0..<columnCount).map { String(cString: PQfname(result, $0)) }
        var values: [[String?]] = []
        values.reserveCapacity(Int(rowCount))
        for row in 0..<rowCount {
            values.append((0..<columnCount).map { column in
                PQgetisnull(result, row, column) == 1 ? nil : String(cString: PQgetvalue(result, row, column))
            })
        }
        let affected = Int(String(cString: PQcmdTuples(result))) ?? 0
        return PostgresRows(columns: columns, values: values, affectedRows: affected)
    }
}

/// Calls `body` with NUL-terminated copies of `strings` (nil entries stay NULL), freed afterwards.
private func withCStrings<R>(_ strings: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> R) -> R {
    let copies = strings.map { $0.flatMap { strdup($0) } }
    defer { copies.forEach { free($0) } }
    let pointers = copies.map { $0.map { UnsafePointer($0) } } + [nil]
    return pointers.withUnsafeBufferPointer { body($0.baseAddress) }
}
