/// One entry read from a stream.
package struct RedisStreamMessage: Sendable, Equatable {
    package var stream: String
    package var id: String
    package var fields: [String: String]

    package init(stream: String, id: String, fields: [String: String]) {
        self.stream = stream
        self.id = id
        self.fields = fields
    }

    /// Parses `[[id, [field, value, ...]], ...]`; entries deleted since delivery (fields nil) are skipped.
    static func entries(_ reply: RedisValue, stream: String) throws(RedisError) -> [RedisStreamMessage] {
        if reply == .null { return [] }
        guard let entries = reply.array else { throw RedisError(.protocolError, "stream entries: expected an array, got \(reply)") }
        var messages: [RedisStreamMessage] = []
        for entry in entries {
            guard let pair = entry.array, pair.count == 2, let id = pair[0].string else {
                throw RedisError(.protocolError, "stream entry: expected [id, fields], got \(entry)")
            }
            guard let flat = pair[1].array else { continue }
            var fields: [String: String] = [:]
            var index = 0
            while index + 1 < flat.count {
                if let field = flat[index].string { fields[field] = flat[index + 1].string ?? "" }
                index += 2
            }
            messages.append(RedisStreamMessage(stream: stream, id: id, fields: fields))
        }
        return messages
    }
}
