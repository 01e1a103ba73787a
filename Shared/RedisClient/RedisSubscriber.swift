import Dispatch
import Foundation
package import Logging
import Synchronization

/// Pub/sub on one dedicated connection, read by one thread of its own.
///
/// `subscribe`/`psubscribe` return once Redis confirmed the subscription, so anything published
/// afterwards is delivered. Each call gets its own stream; ending the stream (dropping it, cancelling
/// the task iterating it) unsubscribes channels no other stream needs. When the connection drops,
/// the reader reconnects with backoff (50 ms doubling to 2 s) and re-subscribes every active channel
/// and pattern, so streams keep delivering after a Redis restart (messages published while the
/// connection was down are lost: that is pub/sub). The reader thread starts with the first
/// subscription and stops on `close()`, which also finishes every stream.
///
/// With sentinels configured, every (re)connect asks them for the master (see `RedisConnector`), and
/// the reader also reconnects when the sentinels announce another master (`+switch-master`), so after
/// a failover the subscriptions move to the new master; sentinel mode caps the backoff at 500 ms.
package final class RedisSubscriber: Sendable {
    let configuration: RedisConfiguration
    let logger: Logger
    let connector: RedisConnector
    let state = Mutex(SubscriberState())
    let wake = WakePipe()
    private let ids = Atomic<Int>(0)

    /// Messages buffered per stream for a slow consumer; beyond that new messages are dropped (and logged).
    static let bufferLimit = 10_000

    package init(configuration: RedisConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        self.connector = RedisConnector(configuration: configuration, logger: logger)
    }

    /// Subscribes to `channels`; the stream yields their messages until it ends or `close()`.
    package func subscribe(_ channels: [String]) async throws -> AsyncStream<RedisPubSubMessage> {
        try await register(channels: Set(channels), patterns: [])
    }

    /// Subscribes to glob `patterns` (`PSUBSCRIBE`); messages carry the matching pattern.
    package func psubscribe(_ patterns: [String]) async throws -> AsyncStream<RedisPubSubMessage> {
        try await register(channels: [], patterns: Set(patterns))
    }

    /// Removes `channels` from every stream; a stream left with nothing to listen to finishes.
    package func unsubscribe(_ channels: [String]) {
        update { state in
            var finished: [AsyncStream<RedisPubSubMessage>.Continuation] = []
            for (id, var registration) in state.registrations {
                registration.channels.subtract(channels)
                if registration.channels.isEmpty && registration.patterns.isEmpty {
                    state.registrations[id] = nil
                    finished.append(registration.continuation)
                } else {
                    state.registrations[id] = registration
                }
            }
            return finished
        }
    }

    /// Stops the reader thread, closes the connection and finishes every stream.
    package func close() async {
        let started = state.withLock { state in
            state.closed = true
            return state.started
        }
        wake.signal()
        connector.close()
        if started {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let done = state.withLock { state in
                    if !state.readerFinished { state.closeWaiters.append(continuation) }
                    return state.readerFinished
                }
                if done { continuation.resume() }
            }
        }
        finishAll()
    }

    private func register(channels: Set<String>, patterns: Set<String>) async throws -> AsyncStream<RedisPubSubMessage> {
        precondition(!channels.isEmpty || !patterns.isEmpty, "subscribe to at least one channel or pattern")
        let id = ids.wrappingAdd(1, ordering: .relaxed).newValue
        let (stream, continuation) = AsyncStream.makeStream(
            of: RedisPubSubMessage.self, bufferingPolicy: .bufferingOldest(Self.bufferLimit)
        )
        continuation.onTermination = { [self] _ in
            update { state in
                state.registrations[id] = nil
                return []
            }
        }
        let wanted = Set(channels.map { SubscriptionKey.channel($0) } + patterns.map { SubscriptionKey.pattern($0) })
        do {
            try await withCheckedThrowingContinuation { (confirmed: CheckedContinuation<Void, any Error>) in
                let outcome = state.withLock { state -> (start: Bool, error: RedisError?) in
                    if state.closed { return (false, RedisError(.poolClosed, "subscriber closed")) }
                    state.registrations[id] = Registration(channels: channels, patterns: patterns, continuation: continuation)
                    state.confirmations.append(Confirmation(id: id, remaining: wanted, continuation: confirmed))
                    if state.connected {
                        if !channels.isEmpty { state.outbox.append(["SUBSCRIBE"] + channels.sorted()) }
                        if !patterns.isEmpty { state.outbox.append(["PSUBSCRIBE"] + patterns.sorted()) }
                        state.subscribedChannels.formUnion(channels)
                        state.subscribedPatterns.formUnion(patterns)
                    }
                    defer { state.started = true }
                    return (!state.started, nil)
                }
                if let error = outcome.error {
                    confirmed.resume(throwing: error)
                    return
                }
                if outcome.start { startReader() } else { wake.signal() }
                let limit = configuration.connectTimeout + configuration.commandTimeout
                DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(RedisPool.nanoseconds(limit))) { [self] in
                    let waiter = state.withLock { state -> Confirmation? in
                        guard let index = state.confirmations.firstIndex(where: { $0.id == id }) else { return nil }
                        return state.confirmations.remove(at: index)
                    }
                    waiter?.continuation.resume(throwing: RedisError(.timeout, "subscription not confirmed within \(limit)"))
                }
            }
        } catch {
            continuation.finish()
            throw error
        }
        return stream
    }

    /// Applies a change to the registrations, then unsubscribes whatever no stream listens to any more.
    private func update(_ change: (inout SubscriberState) -> [AsyncStream<RedisPubSubMessage>.Continuation]) {
        let finished = state.withLock { state in
            let finished = change(&state)
            let channels = state.subscribedChannels.subtracting(state.wantedChannels)
            let patterns = state.subscribedPatterns.subtracting(state.wantedPatterns)
            if state.connected {
                if !channels.isEmpty { state.outbox.append(["UNSUBSCRIBE"] + channels.sorted()) }
                if !patterns.isEmpty { state.outbox.append(["PUNSUBSCRIBE"] + patterns.sorted()) }
            }
            state.subscribedChannels.subtract(channels)
            state.subscribedPatterns.subtract(patterns)
            return finished
        }
        for continuation in finished { continuation.finish() }
        wake.signal()
    }

    /// Finishes every stream and fails every pending subscription; used once the reader stopped.
    func finishAll() {
        let (registrations, confirmations) = state.withLock { state in
            defer { state.registrations.removeAll(); state.confirmations.removeAll() }
            return (Array(state.registrations.values), state.confirmations)
        }
        for confirmation in confirmations { confirmation.continuation.resume(throwing: RedisError(.poolClosed, "subscriber closed")) }
        for registration in registrations { registration.continuation.finish() }
    }

    private func startReader() {
        let thread = Thread { [self] in readerLoop() }
        thread.name = "redis-subscriber"
        thread.start()
    }
}
