/// The summary form of `XPENDING stream group`.
package struct RedisPendingSummary: Sendable, Equatable {
    /// Messages delivered to some consumer and not yet acknowledged.
    package var count: Int
    package var smallestID: String?
    package var largestID: String?
    /// Pending messages per consumer name; consumers with none are absent.
    package var consumers: [String: Int]

    package init(count: Int, smallestID: String?, largestID: String?, consumers: [String: Int]) {
        self.count = count
        self.smallestID = smallestID
        self.largestID = largestID
        self.consumers = consumers
    }

    init(reply: RedisValue) throws(RedisError) {
        guard let parts = reply.array, parts.count == 4, let count = parts[0].int else {
            throw RedisError(.protocolError, "XPENDING: expected [count, smallest, largest, consumers], got \(reply)")
        }
        var consumers: [String: Int] = [:]
        for consumer in parts[3].array ?? [] {
            guard let pair = consumer.array, pair.count == 2, let name = pair[0].string, let pending = pair[1].int else {
                throw RedisError(.protocolError, "XPENDING: bad consumer entry \(consumer)")
            }
            consumers[name] = Int(pending)
        }
        self.init(count: Int(count), smallestID: parts[1].string, largestID: parts[2].string, consumers: consumers)
    }
}
