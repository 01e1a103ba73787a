/// The parsed form of `RedisConfiguration.url`; its description leaves the credentials out.
struct RedisEndpoint: Sendable, Equatable, CustomStringConvertible {
    var host: String
    var port: Int
    var username: String?
    var password: String?
    var database: Int

    var description: String { "\(host):\(port)/\(database)" }

    static func parse(_ url: String) -> Result<RedisEndpoint, RedisError> {
        let invalid = RedisError(.connectionFailed, "invalid Redis URL (expected redis://[:password@]host:port[/db])")
        guard url.hasPrefix("redis://") else { return .failure(invalid) }
        var rest = Substring(url.dropFirst("redis://".count))
        if let query = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) { rest = rest[..<query] }

        var username: String?
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let userInfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = userInfo.firstIndex(of: ":") {
                let user = String(userInfo[..<colon])
                username = user.isEmpty ? nil : percentDecoded(user)
                password = percentDecoded(String(userInfo[userInfo.index(after: colon)...]))
            } else if !userInfo.isEmpty {
                password = percentDecoded(String(userInfo))
            }
        }

        var database = 0
        if let slash = rest.firstIndex(of: "/") {
            let path = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
            if !path.isEmpty {
                guard let number = Int(path), number >= 0 else { return .failure(invalid) }
                database = number
            }
        }

        var host: Substring
        var portText: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { return .failure(invalid) }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if after.hasPrefix(":") { portText = after.dropFirst() } else if !after.isEmpty { return .failure(invalid) }
        } else if let colon = rest.lastIndex(of: ":") {
            host = rest[..<colon]
            portText = rest[rest.index(after: colon)...]
        } else {
            host = rest
        }
        guard !host.isEmpty else { return .failure(invalid) }
        var port = 6379
        if let portText {
            guard let number = Int(portText), (1...65535).contains(number) else { return .failure(invalid) }
            port = number
        }
        return .success(RedisEndpoint(host: String(host), port: port, username: username, password: password, database: database))
    }

    private static func percentDecoded(_ text: String) -> String {
        guard text.contains("%") else { return text }
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%"), let high = iterator.next(), let low = iterator.next() {
                if let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16) {
                    bytes.append(value)
                } else {
                    bytes += [byte, high, low]
                }
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
