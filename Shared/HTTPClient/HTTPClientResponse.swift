/// A complete, buffered HTTP response. 4xx and 5xx responses are values too; see `ensureSuccess()`.
package struct HTTPClientResponse: Sendable {
    package var status: Int
    package var headers: HTTPHeaders
    package var body: [UInt8]
    /// Connections libcurl had to open for this transfer; 0 means a cached connection was reused.
    package var newConnections: Int

    package init(status: Int, headers: HTTPHeaders = [:], body: [UInt8] = [], newConnections: Int = 0) {
        self.status = status
        self.headers = headers
        self.body = body
        self.newConnections = newConnections
    }

    /// The first value of header `name`, compared case-insensitively.
    package subscript(header name: String) -> String? {
        headers[name]
    }

    /// The body decoded as UTF-8 (invalid sequences replaced).
    package var bodyText: String {
        String(decoding: body, as: UTF8.self)
    }

    /// Returns `self` for 1xx-3xx; throws `.status(code, first 512 bytes of the body)` for 4xx and 5xx.
    @discardableResult
    package func ensureSuccess() throws(HTTPClientError) -> Self {
        guard status < 400 else {
            throw .status(status, String(decoding: body.prefix(512), as: UTF8.self))
        }
        return self
    }
}
