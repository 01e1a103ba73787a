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
    /// loads it with `SCRIPT LOAD` and retries once on the same connection. Error replies throw `.server`.
    package func evalsha(_ script: RedisScript, keys: [String], arguments: [String]) async throws -> RedisValue {
        guard Tracing.isRecording else { return try await runScript(script, keys: keys, arguments: arguments) }
        return try await Tracing.withSpan("redis EVALSHA", kind: .client, attributes: ["db.system": "redis", "redis.script": .string(script.name)]) { _ in
            try await runScript(script, keys: keys, arguments: arguments)
        }
    }

    private func runScript(_ script: RedisScript, keys: [String], arguments: [String]) async throws -> RedisValue {
        let evalsha = (["EVALSHA", script.sha1, String(keys.count)] + keys + arguments).map { Array($0.utf8) }
        let timeout = configuration.commandTimeout
        let reply = try await withConnection { connection in
            try await connection.run(timeout: timeout) { context throws(RedisError) in
                let first = try context.command(evalsha)
                guard case .error(let message) = first, message.hasPrefix("NOSCRIPT") else { return first }
                let loaded = try context.command([Array("SCRIPT".utf8), Array("LOAD".utf8), Array(script.source.utf8)])
                if case .error = loaded { return loaded }
                guard loaded.string == script.sha1 else {
                    return .error("ERR SCRIPT LOAD returned \(loaded.string ?? "nothing"), expected \(script.sha1)")
                }
                return try context.command(evalsha)
            }
        }
        if case .error(let message) = reply { throw RedisError.server(message) }
        return reply
    }
}
