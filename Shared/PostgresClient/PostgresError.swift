/// A failure from PostgreSQL, libpq or the pool, with the SQLSTATE when the server sent one.
///
/// `description` holds the server's primary message only (no DETAIL, which may quote row values)
/// and never the connection URL or password.
package struct PostgresError: Error, CustomStringConvertible, Sendable {
    package enum Code: Equatable, Hashable, Sendable {
        case uniqueViolation        // 23505
        case foreignKeyViolation    // 23503
        case checkViolation         // 23514
        case notNullViolation       // 23502
        case serializationFailure   // 40001
        case deadlockDetected       // 40P01
        case queryCanceled          // 57014: statement_timeout, PQcancel, or task cancellation
        case undefinedTable         // 42P01
        case syntaxError            // 42601
        /// Any other SQLSTATE, raw.
        case other(String)
        /// Could not open a connection (server down, refused, bad credentials, bad URL).
        case connectionFailed
        /// An open connection broke during use.
        case connectionLost
        /// The server did not answer within the client's deadline (`PostgresConfiguration.queryTimeout`):
        /// a host that vanished or a server that stopped; the connection is closed, not reused.
        case timeout
        /// No connection became free within the acquire timeout.
        case poolTimeout
        /// The pool was closed.
        case poolClosed
        /// A column value could not be decoded as the requested type.
        case decoding
        /// A schema or other identifier failed validation.
        case invalidIdentifier

        /// The code for a SQLSTATE.
        package init(sqlState: String) {
            switch sqlState {
            case "23505": self = .uniqueViolation
            case "23503": self = .foreignKeyViolation
            case "23514": self = .checkViolation
            case "23502": self = .notNullViolation
            case "40001": self = .serializationFailure
            case "40P01": self = .deadlockDetected
            case "57014": self = .queryCanceled
            case "42P01": self = .undefinedTable
            case "42601": self = .syntaxError
            default: self = .other(sqlState)
            }
        }
    }

    package var code: Code
    /// The five-character SQLSTATE when the server reported one.
    package var sqlState: String?
    /// The server's primary message, or a short description of a client-side failure.
    package var message: String
    /// The violated constraint, for integrity errors.
    package var constraint: String?
    /// The column a decoding error is about.
    package var column: String?

    package init(
        _ code: Code, message: String, sqlState: String? = nil, constraint: String? = nil, column: String? = nil
    ) {
        self.code = code
        self.message = message
        self.sqlState = sqlState
        self.constraint = constraint
        self.column = column
    }

    /// True for failures worth retrying the whole transaction for (40001, 40P01).
    package var isTransient: Bool { code == .serializationFailure || code == .deadlockDetected }

    package var description: String {
        var text = "PostgresError.\(code.name)"
        if let sqlState { text += " [\(sqlState)]" }
        text += ": \(message)"
        if let constraint { text += " (constraint \(constraint))" }
        return text
    }
}

extension PostgresError.Code {
    var name: String {
        switch self {
        case .uniqueViolation: "uniqueViolation"
        case .foreignKeyViolation: "foreignKeyViolation"
        case .checkViolation: "checkViolation"
        case .notNullViolation: "notNullViolation"
        case .serializationFailure: "serializationFailure"
        case .deadlockDetected: "deadlockDetected"
        case .queryCanceled: "queryCanceled"
        case .undefinedTable: "undefinedTable"
        case .syntaxError: "syntaxError"
        case .other: "other"
        case .connectionFailed: "connectionFailed"
        case .connectionLost: "connectionLost"
        case .timeout: "timeout"
        case .poolTimeout: "poolTimeout"
        case .poolClosed: "poolClosed"
        case .decoding: "decoding"
        case .invalidIdentifier: "invalidIdentifier"
        }
    }
}
