/// A failure talking to Redis.
///
/// `kind` says what went wrong; `detail` says where, and never contains the password or any other
/// part of the configured URL beyond host, port and database.
package struct RedisError: Error, Sendable, Equatable, CustomStringConvertible {
    package enum Kind: Sendable, Equatable {
        /// No connection could be opened (refused, unreachable, bad URL, authentication failed).
        case connectionFailed
        /// An open connection broke mid-command (EOF, reset, write failure).
        case connectionLost
        /// The server did not answer within the command timeout.
        case timeout
        /// No pooled connection became free within the acquire timeout.
        case poolTimeout
        /// The pool or subscriber was closed.
        case poolClosed
        /// The server answered with an error reply (`-ERR ...`); the associated value is its text.
        case server(String)
        /// The reply did not have the shape the command promises.
        case protocolError
    }

    package let kind: Kind
    package let detail: String

    package init(_ kind: Kind, _ detail: String) {
        self.kind = kind
        self.detail = detail
    }

    package static func server(_ message: String) -> RedisError { RedisError(.server(message), message) }

    /// The error reply's code, its first word (`ERR`, `WRONGTYPE`, `NOSCRIPT`, `BUSYGROUP`), for `.server` errors.
    package var serverCode: String? {
        guard case .server(let message) = kind else { return nil }
        return message.split(separator: " ", maxSplits: 1).first.map(String.init)
    }

    package var description: String {
        switch kind {
        case .connectionFailed: "redis: connection failed: \(detail)"
        case .connectionLost: "redis: connection lost: \(detail)"
        case .timeout: "redis: timeout: \(detail)"
        case .poolTimeout: "redis: no connection free: \(detail)"
        case .poolClosed: "redis: closed: \(detail)"
        case .server(let message): "redis: server error: \(message)"
        case .protocolError: "redis: unexpected reply: \(detail)"
        }
    }
}
