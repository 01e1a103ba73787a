/// How a `CurlHTTPClient` connects: connection limits, timeouts, identity and trust.
package struct HTTPClientConfiguration: Sendable {
    /// Most connections open to one host at a time; further transfers queue inside libcurl.
    package var maxConnectionsPerHost: Int
    /// Most connections open in total, and the size of the idle-connection cache.
    package var maxTotalConnections: Int
    /// Limit for establishing a connection (TCP and TLS handshake).
    package var connectTimeout: Duration
    /// Whole-transfer limit for requests that set no `timeout` of their own.
    package var defaultTimeout: Duration
    /// Sent as `User-Agent` unless a request sets its own.
    package var userAgent: String
    /// PEM file of trusted CA certificates; `nil` uses the system store. Verification is always on.
    package var caBundlePath: String?
    /// Bytes a streaming response may buffer before the transfer pauses until the consumer catches up.
    package var streamingBufferLimit: Int

    package init(
        maxConnectionsPerHost: Int = 32,
        maxTotalConnections: Int = 256,
        connectTimeout: Duration = .seconds(5),
        defaultTimeout: Duration = .seconds(30),
        userAgent: String = "pingvas",
        caBundlePath: String? = nil,
        streamingBufferLimit: Int = 1 << 20
    ) {
        self.maxConnectionsPerHost = maxConnectionsPerHost
        self.maxTotalConnections = maxTotalConnections
        self.connectTimeout = connectTimeout
        self.defaultTimeout = defaultTimeout
        self.userAgent = userAgent
        self.caBundlePath = caBundlePath
        self.streamingBufferLimit = streamingBufferLimit
    }
}
