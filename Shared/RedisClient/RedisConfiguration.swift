/// Where Redis is and how long to wait for it.
///
/// `url` is `redis://[[user]:password@]host[:port][/db]`; the password may be percent-encoded.
/// Parsing happens when a connection is opened, so a bad URL surfaces as `connectionFailed`
/// from the first command, never as a crash at start-up. `description` hides the password.
package struct RedisConfiguration: Sendable, CustomStringConvertible {
    package var url: String
    package var maxConnections: Int
    package var connectTimeout: Duration
    /// How long one command (or one pipeline) may take; blocking commands add their own BLOCK/timeout.
    package var commandTimeout: Duration
    /// How long `RedisPool` waits for a free connection when all `maxConnections` are busy.
    package var acquireTimeout: Duration

    package init(
        url: String,
        maxConnections: Int = 10,
        connectTimeout: Duration = .seconds(2),
        commandTimeout: Duration = .seconds(5),
        acquireTimeout: Duration = .seconds(5)
    ) {
        self.url = url
        self.maxConnections = max(1, maxConnections)
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.acquireTimeout = acquireTimeout
    }

    package var description: String {
        switch RedisEndpoint.parse(url) {
        case .success(let endpoint): "RedisConfiguration(\(endpoint), maxConnections: \(maxConnections))"
        case .failure: "RedisConfiguration(invalid url, maxConnections: \(maxConnections))"
        }
    }
}
