import Foundation

/// How a `PostgresPool` connects and what every connection it opens is set up with.
package struct PostgresConfiguration: Sendable {
    /// `postgresql://user[:password]@host:port/database[?param=value...]`; never logged or put in errors.
    package var url: String
    /// When set, every connection gets `search_path = <schema>, public`; must be a plain identifier.
    package var schema: String?
    package var maxConnections: Int
    /// How long `withConnection` waits for a free connection before `.poolTimeout`.
    package var acquireTimeout: Duration
    /// Passed to libpq as `connect_timeout` (whole seconds, at least 2).
    package var connectTimeout: Duration
    /// Server-side `statement_timeout` for every connection; nil leaves the server's default.
    package var statementTimeout: Duration?
    /// Client-side deadline of every statement: past it the connection's socket is shut down, the
    /// statement fails `.timeout` and the connection is dropped. It catches what the server cannot
    /// report (a host gone from the network, a stopped server); nil: the statement timeout plus 5 s.
    package var queryTimeout: Duration?
    package var applicationName: String

    /// The deadline a statement gets (`queryTimeout`, else `statementTimeout` + 5 s, else 60 s).
    package var effectiveQueryTimeout: Duration {
        queryTimeout ?? statementTimeout.map { $0 + .seconds(5) } ?? .seconds(60)
    }

    package init(
        url: String,
        schema: String? = nil,
        maxConnections: Int = 10,
        acquireTimeout: Duration = .seconds(5),
        connectTimeout: Duration = .seconds(5),
        statementTimeout: Duration? = .seconds(30),
        queryTimeout: Duration? = nil,
        applicationName: String = "pingvas"
    ) {
        self.url = url
        self.schema = schema
        self.maxConnections = maxConnections
        self.acquireTimeout = acquireTimeout
        self.connectTimeout = connectTimeout
        self.statementTimeout = statementTimeout
        self.queryTimeout = queryTimeout
        self.applicationName = applicationName
    }
}

extension PostgresConfiguration {
    /// libpq keyword/value pairs: the URL first (expanded by libpq), then our settings, which win.
    func connectionParameters() throws(PostgresError) -> [(String, String)] {
        // The text formats PostgresDecodable parses, whatever the server's defaults.
        var options = ["-c DateStyle=ISO", "-c bytea_output=hex"]
        if let schema {
            try PostgresIdentifier.validate(schema)
            options.append("-c search_path=\(schema),public")
        }
        if let statementTimeout {
            options.append("-c statement_timeout=\(max(1, statementTimeout.milliseconds))")
        }
        return [
            ("dbname", url),
            ("connect_timeout", String(max(2, Int((connectTimeout.milliseconds + 999) / 1000)))),
            ("application_name", applicationName),
            ("client_encoding", "UTF8"),
            // A peer that vanishes is noticed in seconds (idle: 10 s + 3 × 5 s; unacknowledged data: 20 s).
            ("keepalives", "1"),
            ("keepalives_idle", "10"),
            ("keepalives_interval", "5"),
            ("keepalives_count", "3"),
            ("tcp_user_timeout", "20000"),
            ("options", options.joined(separator: " ")),
        ]
    }

    /// The password in `url`, percent-decoded, so error text can be scrubbed of it.
    var password: String? {
        guard let schemeEnd = url.range(of: "://") else { return nil }
        let afterScheme = url[schemeEnd.upperBound...]
        let authority = afterScheme.prefix { $0 != "/" && $0 != "?" }
        guard let at = authority.lastIndex(of: "@") else { return nil }
        let rest = authority
        let userInfo = rest[..<at]
        guard let colon = userInfo.firstIndex(of: ":") else { return nil }
        let raw = String(userInfo[userInfo.index(after: colon)...])
        return raw.isEmpty ? nil : (raw.removingPercentEncoding ?? raw)
    }
}

extension Duration {
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
