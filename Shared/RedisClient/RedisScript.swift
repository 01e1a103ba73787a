import Core
import PingvasCrypto

/// A Lua script run with `EVALSHA`; its SHA-1 is computed once, here, so no round trip is needed to learn it.
package struct RedisScript: Sendable, Equatable {
    package let source: String
    /// Lower-case hex SHA-1 of `source`, the name Redis files the script under.
    package let sha1: String
    /// For traces and logs (`dispatch`, `enqueue` ...); empty: unnamed.
    package let name: String

    package init(_ source: String, name: String = "") {
        self.source = source
        self.sha1 = SHA1Digest.hex(source.utf8)
        self.name = name
    }
}

extension RedisPool {
    /// `EVALSHA`; if the server does not know the script (`NOSCRIPT`, e.g. after a restart or `SCRIPT FLUSH`),
    /// loads it with `SCRIPT LOAD` and retries once (both on the shared pipelined connection). Error replies throw `.server`.
    package func evalsha(_ script: RedisScript, keys: [String], arguments: [String]) async throws -> RedisValue {
        guard Tracing.isRecording else { return try await runScript(script, keys: keys, arguments: arguments) }
        return try await Tracing.withSpan("redis EVALSHA", kind: .client, attributes: ["db.system": "redis", "redis.script": .string(script.name)]) { _ in
            try await runScript(script, keys: keys, arguments: arguments)
        }
    }

    private func runScript(_ script: RedisScript, keys: [String], arguments: [String]) async throws -> RedisValue {
        let evalsha = (["EVALSHA", script.sha1, String(keys.count)] + keys + arguments).map { Array($0.utf8) }
        var reply = try await pipelined.send([evalsha])[0]
        if case .error(let message) = reply, message.hasPrefix("NOSCRIPT") {
            // The script cache is the server's, not the connection's: load and run again, back to back.
            let replies = try await pipelined.send([[Array("SCRIPT".utf8), Array("LOAD".utf8), Array(script.source.utf8)], evalsha])
            if case .error = replies[0] {
                reply = replies[0]
            } else if replies[0].string != script.sha1 {
                reply = .error("ERR SCRIPT LOAD returned \(replies[0].string ?? "nothing"), expected \(script.sha1)")
            } else {
                reply = replies[1]
            }
        }
        if case .error(let message) = reply { throw RedisError.server(message) }
        return reply
    }
}
