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
    /// When not empty, the URL's host is reached only at these numeric addresses (`CURLOPT_RESOLVE`),
    /// never at what DNS answers when libcurl connects: for a target whose addresses were checked
    /// just before (customers' webhook URLs), so a DNS answer that changes in between cannot point
    /// the request somewhere else. Ignored for a URL whose host is an address itself.
    package var pinnedAddresses: [String]

    package init(
        method: String = "GET",
        url: String,
        headers: HTTPHeaders = [:],
        body: [UInt8]? = nil,
        timeout: Duration? = nil,
        pinnedAddresses: [String] = []
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.pinnedAddresses = pinnedAddresses
    }
}
