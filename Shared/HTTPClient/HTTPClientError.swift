/// Why an HTTP exchange failed. Descriptions never include request headers or bodies.
package enum HTTPClientError: Error, Equatable, CustomStringConvertible {
    /// The request's time limit elapsed.
    case timeout
    /// The host could not be resolved or refused the connection.
    case connectionFailed(String)
    /// The TLS handshake or certificate verification failed.
    case tls(String)
    /// The calling task was cancelled; the transfer was aborted.
    case cancelled
    /// The URL is malformed or not `http`/`https`.
    case invalidURL
    /// The request cannot be sent as given (a method or header that is not valid HTTP).
    case invalidRequest(String)
    /// Raised by `ensureSuccess()`: the status code and the start of the response body.
    case status(Int, String)
    /// Any other libcurl failure: its `CURLcode` and message.
    case other(code: Int, String)
    /// The client was shut down before the exchange completed.
    case shutdown

    package var description: String {
        switch self {
        case .timeout: "HTTP request timed out"
        case .connectionFailed(let detail): "HTTP connection failed: \(detail)"
        case .tls(let detail): "TLS failure: \(detail)"
        case .cancelled: "HTTP request cancelled"
        case .invalidURL: "invalid URL"
        case .invalidRequest(let detail): "invalid HTTP request: \(detail)"
        case .status(let code, let body): "HTTP status \(code): \(body)"
        case .other(let code, let detail): "HTTP client error (curl \(code)): \(detail)"
        case .shutdown: "HTTP client shut down"
        }
    }
}
