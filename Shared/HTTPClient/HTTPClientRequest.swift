/// One outgoing HTTP request.
package struct HTTPClientRequest: Sendable {
    package var method: String
    /// Absolute `http` or `https` URL.
    package var url: String
    /// Sent in order. `X-Request-Id` and `traceparent` are added from `RequestContext` unless present.
    package var headers: HTTPHeaders
    /// `nil` sends no body (an empty one for POST, PUT and PATCH).
    package var body: [UInt8]?
    /// Whole-transfer limit for `execute`, time-to-response-head limit for `stream`;
    /// `nil` uses the configuration's `defaultTimeout`.
    package var timeout: Duration?

    package init(
        method: String = "GET",
        url: String,
        headers: HTTPHeaders = [:],
        body: [UInt8]? = nil,
        timeout: Duration? = nil
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }
}
