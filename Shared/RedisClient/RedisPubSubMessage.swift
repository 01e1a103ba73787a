/// A message received on a subscribed channel or pattern.
package struct RedisPubSubMessage: Sendable, Equatable {
    package var channel: String
    /// The pattern that matched, for `psubscribe` streams; `nil` for plain channel subscriptions.
    package var pattern: String?
    package var payload: [UInt8]

    package init(channel: String, pattern: String?, payload: [UInt8]) {
        self.channel = channel
        self.pattern = pattern
        self.payload = payload
    }

    /// The payload decoded as UTF-8 (lossy).
    package var string: String { String(decoding: payload, as: UTF8.self) }
}
