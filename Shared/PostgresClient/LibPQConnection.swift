import CLibPQ
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One `PGconn` (and its `PGcancel`) in non-blocking mode.
///
/// Nothing here waits for the server: sending queues the statement (`PQsendQueryParams`), reading
/// takes what has arrived (`PQconsumeInput`, `PQisBusy`, `PQgetResult`). `PostgresConnection`
/// waits on the socket through `PostgresReactor` between those calls.
final class LibPQConnection: @unchecked Sendable {
    // @unchecked: a connection is leased to one task at a time (PostgresPool), which makes every
    // call on `connection` in turn, possibly from different threads but never at once. `cancelHandle`
    // never changes after init, is only passed to PQcancel (documented thread-safe), freed in deinit.
    private var connection: OpaquePointer?
    private let cancelHandle: OpaquePointer?
    private let secret: String?
    /// The connection's socket, or -1.
    let socket: Int32
    /// Statements prepared on this connection: SQL text -> server-side name (`pingvas_<n>`).
    private var prepared: [String: String] = [:]
    private var preparedCount = 0
    /// Beyond this many a connection prepares nothing more (SQL built with varying text, such as
    /// schema names, must not grow the server's memory without bound).
    static let maxPrepared = 256

    /// A bind parameter: text input format, or raw bytes with their type's OID (bytea: 17).
    enum Parameter: Sendable {
        case text(String?)
        case binary([UInt8], oid: UInt32)
    }

    private init(connection: OpaquePointer, secret: String?) {
        self.connection = connection
        self.cancelHandle = PQgetCancel(connection)
        self.secret = secret
        self.socket = PQsocket(connection)
    }

    deinit {
        if let cancelHandle { PQfreeCancel(cancelHandle) }
        if let connection { PQfinish(connection) }
    }

    /// Opens a connection (blocking, bounded by `connect_timeout`: call it off the cooperative
    /// pool), then switches it to non-blocking mode.
    static func connect(parameters: [(String, String)], secret: String?) throws(PostgresError) -> LibPQConnection {
        let connection = withCStrings(parameters.map(\.0)) { keywords in
            withCStrings(parameters.map(\.1)) { values in
                PQconnectdbParams(keywords, values, 1)
            }
        }
        guard let connection else { throw PostgresError(.connectionFailed, message: "libpq could not allocate a connection") }
        guard PQstatus(connection) == CONNECTION_OK, PQsetnonblocking(connection, 1) == 0 else {
            let error = PostgresError.libpq(connection: connection, result: nil, connecting: true, secret: secret)
            PQfinish(connection)
            throw error
        }
        // Without this libpq prints NOTICEs ("schema already exists, skipping") to stderr.
        PQsetNoticeProcessor(connection, { _, _ in }, nil)
        return LibPQConnection(connection: connection, secret: secret)
    }

    /// The name `sql` is prepared under on this connection, if it is.
    func preparedName(_ sql: String) -> String? { prepared[sql] }

    /// Whether `sql` should be prepared now (not yet, and there is room).
    func shouldPrepare(_ sql: String) -> Bool { prepared[sql] == nil && prepared.count < Self.maxPrepared }

    /// Queues `PQsendPrepare` of `sql` under a new name (the server infers the parameter types),
    /// returned for `remember` once the server accepted it.
    func sendPrepare(_ sql: String) throws(PostgresError) -> String {
        let connection = try open()
        preparedCount += 1
        let name = "pingvas_\(preparedCount)"
        guard PQsendPrepare(connection, name, sql, 0, nil) == 1 else {
            throw PostgresError.libpq(connection: connection, result: nil, secret: secret)
        }
        return name
    }

    func remember(_ sql: String, as name: String) { prepared[sql] = name }

    /// Stops using a prepared statement (e.g. after "cached plan must not change result type").
    func forgetPrepared(_ sql: String) { prepared[sql] = nil }

    /// Queues one statement with its parameters: `PQsendQueryPrepared` when `name` is given,
    /// else `PQsendQueryParams`; text results.
    func send(_ sql: String, _ parameters: [Parameter], prepared name: String? = nil) throws(PostgresError) {
        let connection = try open()
        var texts: [String?] = []
        texts.reserveCapacity(parameters.count)
        var hasBinary = false
        for (index, parameter) in parameters.enumerated() {
            switch parameter {
            case .text(let text):
                if let text, text.utf8.contains(0) {
                    throw PostgresError(.other("22021"), message: "parameter $\(index + 1) contains a NUL character", sqlState: "22021")
                }
                texts.append(text)
            case .binary:
                texts.append(nil)
                hasBinary = true
            }
        }
        let sent: Int32
        switch (hasBinary, name) {
        case (true, let name?):
            sent = withParameterArrays(texts, parameters) { values, lengths, formats, _ in
                PQsendQueryPrepared(connection, name, Int32(parameters.count), values, lengths, formats, 0)
            }
        case (true, nil):
            sent = withParameterArrays(texts, parameters) { values, lengths, formats, types in
                PQsendQueryParams(connection, sql, Int32(parameters.count), types, values, lengths, formats, 0)
            }
        case (false, let name?):
            sent = withCStrings(texts) { values in
                PQsendQueryPrepared(connection, name, Int32(parameters.count), values, nil, nil, 0)
            }
        case (false, nil):
            sent = withCStrings(texts) { values in
                PQsendQueryParams(connection, sql, Int32(parameters.count), nil, values, nil, nil, 0)
            }
        }
        guard sent == 1 else { throw PostgresError.libpq(connection: connection, result: nil, secret: secret) }
    }

    /// Queues SQL text that may hold several statements and no parameters (`PQsendQuery`).
    func sendSimple(_ sql: String) throws(PostgresError) {
        let connection = try open()
        guard PQsendQuery(connection, sql) == 1 else { throw PostgresError.libpq(connection: connection, result: nil, secret: secret) }
    }

    /// Sends what libpq still holds: 0 done, 1 more to send (wait until writable), -1 failed.
    func flush() -> Int32 {
        guard let connection else { return -1 }
        return PQflush(connection)
    }

    /// Reads what has arrived on the socket (never waits); false when the connection broke.
    func consumeInput() -> Bool {
        guard let connection else { return false }
        return PQconsumeInput(connection) == 1
    }

    /// True while the next result is still incomplete (reading it would have to wait).
    var isBusy: Bool {
        guard let connection else { return false }
        return PQisBusy(connection) == 1
    }

    /// The next complete result, or nil when the statement is done. Call only while not busy.
    func nextResult() -> OpaquePointer? {
        guard let connection else { return nil }
        return PQgetResult(connection)
    }

    /// The error of a broken connection (no result to read it from).
    func connectionError() -> PostgresError {
        guard let connection else { return PostgresError(.connectionLost, message: "connection is closed") }
        return PostgresError.libpq(connection: connection, result: nil, secret: secret)
    }

    /// Whether the connection can go back to the pool: open, healthy and outside any transaction.
    ///
    /// Reads what the server sent while idle (PQconsumeInput never blocks), so a connection the
    /// server closed during a restart is noticed here instead of failing the next query.
    func isReusable() -> Bool {
        guard let connection else { return false }
        // One read returns the server's goodbye (FATAL 57P01), the next one sees the EOF.
        for _ in 0..<3 where PQconsumeInput(connection) == 0 { return false }
        return PQstatus(connection) == CONNECTION_OK && PQtransactionStatus(connection) == PQTRANS_IDLE && PQisBusy(connection) == 0
    }

    /// Outside any transaction block.
    var isIdle: Bool {
        guard let connection else { return false }
        return PQtransactionStatus(connection) == PQTRANS_IDLE
    }

    /// Closes the connection now rather than when the last reference goes away.
    func finish() {
        if let connection { PQfinish(connection) }
        connection = nil
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

    /// The rows of a finished result, or its error.
    func rows(from result: OpaquePointer) throws(PostgresError) -> PostgresRows {
        let status = PQresultStatus(result)
        guard status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK || status == PGRES_EMPTY_QUERY else {
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

/// The four arrays PQsendQueryParams takes when some parameters are binary: values, lengths,
/// formats (0 text, 1 binary) and type OIDs (0: let the server infer, for text ones).
private func withParameterArrays<R>(
    _ texts: [String?], _ parameters: [LibPQConnection.Parameter],
    _ body: (UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int32>?, UnsafePointer<Int32>?, UnsafePointer<Oid>?) -> R
) -> R {
    var copies: [UnsafeMutablePointer<CChar>?] = []
    copies.reserveCapacity(parameters.count)
    var lengths: [Int32] = []
    var formats: [Int32] = []
    var types: [Oid] = []
    for (parameter, text) in zip(parameters, texts) {
        switch parameter {
        case .text:
            copies.append(text.flatMap { strdup($0) })
            lengths.append(0)
            formats.append(0)
            types.append(0)
        case .binary(let bytes, let oid):
            // malloc(0) may return NULL, which libpq would take for SQL NULL: at least one byte.
            let copy = malloc(max(bytes.count, 1))!.assumingMemoryBound(to: CChar.self)
            bytes.withUnsafeBytes { if let base = $0.baseAddress { memcpy(copy, base, bytes.count) } }
            copies.append(copy)
            lengths.append(Int32(bytes.count))
            formats.append(1)
            types.append(Oid(oid))
        }
    }
    defer { copies.forEach { free($0) } }
    let pointers = copies.map { $0.map { UnsafePointer($0) } }
    return pointers.withUnsafeBufferPointer { values in
        lengths.withUnsafeBufferPointer { lengths in
            formats.withUnsafeBufferPointer { formats in
                types.withUnsafeBufferPointer { types in
                    body(values.baseAddress, lengths.baseAddress, formats.baseAddress, types.baseAddress)
                }
            }
        }
    }
}
