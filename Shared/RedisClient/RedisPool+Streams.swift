extension RedisPool {
    /// `XADD stream [MAXLEN ~ n] * field value ...`; returns the new entry's id.
    package func xadd(_ stream: String, maxLength: Int?, fields: [(String, String)]) async throws -> String {
        precondition(!fields.isEmpty, "XADD needs at least one field")
        var arguments = ["XADD", stream]
        if let maxLength { arguments += ["MAXLEN", "~", String(maxLength)] }
        arguments.append("*")
        for (field, value) in fields { arguments += [field, value] }
        let reply = try await send(arguments)
        guard let id = reply.string else { throw RedisError(.protocolError, "XADD: expected an id, got \(reply)") }
        return id
    }

    /// `XGROUP CREATE stream group startID MKSTREAM`; a group that already exists (`BUSYGROUP`) is fine.
    package func xgroupCreate(_ stream: String, group: String, startID: String = "$") async throws {
        do {
            _ = try await send("XGROUP", "CREATE", stream, group, startID, "MKSTREAM")
        } catch let error as RedisError where error.serverCode == "BUSYGROUP" {
            return
        }
    }

    /// `XREADGROUP GROUP g c COUNT n [BLOCK ms] STREAMS s... > ...`: new messages for `consumer`.
    /// `block: nil` returns at once; otherwise waits up to `block` for the first message. Empty on timeout.
    package func xreadgroup(
        group: String, consumer: String, streams: [String], count: Int, block: Duration?
    ) async throws -> [RedisStreamMessage] {
        precondition(!streams.isEmpty, "XREADGROUP needs at least one stream")
        var arguments = ["XREADGROUP", "GROUP", group, consumer, "COUNT", String(count)]
        if let block { arguments += ["BLOCK", String(max(1, Self.milliseconds(block)))] }
        arguments.append("STREAMS")
        arguments += streams
        arguments += Array(repeating: ">", count: streams.count)
        let reply = try await send(arguments)
        if reply == .null { return [] }
        guard let perStream = reply.array else { throw RedisError(.protocolError, "XREADGROUP: expected an array, got \(reply)") }
        var messages: [RedisStreamMessage] = []
        for item in perStream {
            guard let pair = item.array, pair.count == 2, let name = pair[0].string else {
                throw RedisError(.protocolError, "XREADGROUP: expected [stream, entries], got \(item)")
            }
            messages += try RedisStreamMessage.entries(pair[1], stream: name)
        }
        return messages
    }

    /// `XACK`; returns how many of `ids` were pending and are now acknowledged.
    @discardableResult
    package func xack(_ stream: String, group: String, ids: [String]) async throws -> Int {
        guard !ids.isEmpty else { return 0 }
        return try await send(["XACK", stream, group] + ids).integer()
    }

    /// `XPENDING stream group` (summary form).
    package func xpending(_ stream: String, group: String) async throws -> RedisPendingSummary {
        try RedisPendingSummary(reply: await send("XPENDING", stream, group))
    }

    /// `XAUTOCLAIM stream group consumer min-idle start COUNT n`: takes over messages other consumers
    /// left pending for at least `minIdle`. Returns the cursor for the next call (`0-0` when done) and the messages.
    package func xautoclaim(
        _ stream: String, group: String, consumer: String, minIdle: Duration, start: String = "0-0", count: Int
    ) async throws -> (next: String, messages: [RedisStreamMessage]) {
        let reply = try await send(
            "XAUTOCLAIM", stream, group, consumer, String(Self.milliseconds(minIdle)), start, "COUNT", String(count)
        )
        guard let parts = reply.array, parts.count >= 2, let next = parts[0].string else {
            throw RedisError(.protocolError, "XAUTOCLAIM: expected [next, entries, ...], got \(reply)")
        }
        return (next, try RedisStreamMessage.entries(parts[1], stream: stream))
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
