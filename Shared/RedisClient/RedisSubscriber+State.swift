extension RedisSubscriber {
    enum SubscriptionKey: Hashable {
        case channel(String)
        case pattern(String)
    }

    struct Registration {
        var channels: Set<String>
        var patterns: Set<String>
        var continuation: AsyncStream<RedisPubSubMessage>.Continuation
    }

    /// A `subscribe` call waiting for the server to confirm each of its channels and patterns.
    struct Confirmation {
        var id: Int
        var remaining: Set<SubscriptionKey>
        var continuation: CheckedContinuation<Void, any Error>
    }

    struct SubscriberState {
        var registrations: [Int: Registration] = [:]
        var confirmations: [Confirmation] = []
        /// Commands for the reader thread to send; only filled while `connected`.
        var outbox: [[String]] = []
        /// What the server was asked to subscribe on the current connection.
        var subscribedChannels: Set<String> = []
        var subscribedPatterns: Set<String> = []
        /// The reader has a live connection and has sent the full subscription set on it.
        var connected = false
        var started = false
        var closed = false
        var readerFinished = false
        var closeWaiters: [CheckedContinuation<Void, Never>] = []

        var wantedChannels: Set<String> { registrations.values.reduce(into: []) { $0.formUnion($1.channels) } }
        var wantedPatterns: Set<String> { registrations.values.reduce(into: []) { $0.formUnion($1.patterns) } }

        /// Marks `key` confirmed for every waiting `subscribe`; returns the calls now fully confirmed.
        mutating func confirm(_ key: SubscriptionKey) -> [CheckedContinuation<Void, any Error>] {
            var done: [CheckedContinuation<Void, any Error>] = []
            var kept: [Confirmation] = []
            for var confirmation in confirmations {
                confirmation.remaining.remove(key)
                if confirmation.remaining.isEmpty { done.append(confirmation.continuation) } else { kept.append(confirmation) }
            }
            confirmations = kept
            return done
        }
    }
}
