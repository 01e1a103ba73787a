/// Where one Redis Sentinel listens: a host name or IP address and a port.
///
/// Sentinels are asked without credentials; the password and database of `RedisConfiguration.url`
/// are for the data nodes only.
package struct RedisSentinelEndpoint: Sendable, Hashable, CustomStringConvertible {
    package static let defaultPort = 26379

    package var host: String
    package var port: Int

    package init(host: String, port: Int = RedisSentinelEndpoint.defaultPort) {
        self.host = host
        self.port = port
    }

    /// `host:port`, with an IPv6 address in brackets (`[::1]:26379`).
    package var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// Parses one entry: `host`, `host:port`, `[ipv6]` or `[ipv6]:port`; the port defaults to 26379.
    /// Surrounding spaces are ignored. A bad entry gives `connectionFailed` (the kind of a bad URL) saying what is wrong.
    package static func parse(_ text: String) -> Result<RedisSentinelEndpoint, RedisError> {
        let entry = text.trimmingSpaces
        func invalid(_ reason: String) -> Result<RedisSentinelEndpoint, RedisError> {
            .failure(RedisError(.connectionFailed, "sentinel address '\(entry)': \(reason) (expected host:port or [ipv6]:port)"))
        }
        if entry.isEmpty { return invalid("empty") }
        if entry.contains("://") { return invalid("a URL; give only host:port") }
        if entry.contains(where: { $0 == "/" || $0 == "@" || $0 == "?" || $0 == "#" || $0.isWhitespace }) {
            return invalid("contains '/', '@', '?', '#' or a space")
        }

        var host: Substring
        var portText: Substring?
        if entry.hasPrefix("[") {
            guard let close = entry.firstIndex(of: "]") else { return invalid("'[' without ']'") }
            host = entry[entry.index(after: entry.startIndex)..<close]
            let after = entry[entry.index(after: close)...]
            if after.hasPrefix(":") {
                portText = after.dropFirst()
            } else if !after.isEmpty {
                return invalid("unexpected text after ']'")
            }
        } else if let colon = entry.firstIndex(of: ":") {
            if entry[entry.index(after: colon)...].contains(":") { return invalid("an IPv6 address must be in brackets") }
            host = entry[..<colon]
            portText = entry[entry.index(after: colon)...]
        } else {
            host = Substring(entry)
        }
        if host.isEmpty { return invalid("no host") }
        if host.contains("[") || host.contains("]") { return invalid("misplaced bracket") }
        var port = defaultPort
        if let portText {
            guard let number = Int(portText), (1...65535).contains(number) else {
                return invalid("port '\(portText)' is not a number from 1 to 65535")
            }
            port = number
        }
        return .success(RedisSentinelEndpoint(host: String(host), port: port))
    }

    /// Parses the environment's list format: `host1:26379,host2:26379,[::1]:26379`.
    ///
    /// Entries are separated by commas; spaces around them are ignored; a repeated entry counts once.
    /// An empty list, an empty entry (`a:1,,b:2`, a trailing comma) or any bad entry gives
    /// `connectionFailed` naming the entry (the kind a bad URL gives too); this never traps.
    package static func parseList(_ text: String) -> Result<[RedisSentinelEndpoint], RedisError> {
        let entries = text.split(separator: ",", omittingEmptySubsequences: false).map { String($0) }
        if text.trimmingSpaces.isEmpty {
            return .failure(RedisError(.connectionFailed, "sentinel list is empty (expected host1:26379,host2:26379,...)"))
        }
        var endpoints: [RedisSentinelEndpoint] = []
        for (index, entry) in entries.enumerated() {
            if entry.trimmingSpaces.isEmpty {
                return .failure(RedisError(.connectionFailed, "sentinel list '\(text)': entry \(index + 1) is empty"))
            }
            switch parse(entry) {
            case .success(let endpoint): if !endpoints.contains(endpoint) { endpoints.append(endpoint) }
            case .failure(let error): return .failure(error)
            }
        }
        return .success(endpoints)
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces, tabs and newlines.
    var trimmingSpaces: String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
