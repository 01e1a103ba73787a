import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The reader thread.
///
/// It never sits inside a blocking hiredis read: it `poll`s the socket and the wake pipe (1 s at most),
/// calls `redisBufferRead` only when the socket is readable, and takes complete replies from hiredis'
/// reader with `redisGetReplyFromReader`. A quiet connection is therefore just a poll timeout, never a
/// hiredis I/O error, so the context stays usable and no message can be lost to a timeout-reconnect.
/// After 15 s without traffic it sends `PING`; no answer within the command timeout counts as a lost connection.
extension RedisSubscriber {
    static let idlePing: Duration = .seconds(15)

    func readerLoop() {
        var backoff = RedisPool.initialBackoff
        var context: RedisContext?
        var lastTraffic = ContinuousClock.now
        var pingSentAt: ContinuousClock.Instant?
        var outage = false

        while !state.withLock({ $0.closed }) {
            guard let connection = context else {
                do {
                    context = try connect()
                    backoff = RedisPool.initialBackoff
                    lastTraffic = .now
                    pingSentAt = nil
                    if outage { logger.info("redis subscriber: reconnected and re-subscribed") }
                    outage = false
                } catch {
                    if !outage { logger.warning("redis subscriber: connection failed; retrying", metadata: ["error": "\(error)"]) }
                    outage = true
                    wake.wait(backoff)
                    backoff = min(backoff * 2, connector.maximumBackoff)
                }
                continue
            }
            do {
                let commands = state.withLock { state in
                    defer { state.outbox.removeAll() }
                    return state.outbox
                }
                for command in commands { try connection.append(command.map { Array($0.utf8) }) }
                if !commands.isEmpty { try connection.flush() }

                while let reply = try connection.bufferedReply() {
                    lastTraffic = .now
                    pingSentAt = nil
                    dispatch(reply)
                }
                // The sentinels announced another master: what was read from this one is delivered, now move.
                if !connector.isCurrent(connection.endpoint) {
                    throw RedisError(.connectionLost, "\(connection.endpoint) is no longer the master")
                }

                var descriptors = [
                    pollfd(fd: connection.fileDescriptor, events: Int16(POLLIN), revents: 0),
                    pollfd(fd: wake.readDescriptor, events: Int16(POLLIN), revents: 0),
                ]
                let ready = poll(&descriptors, 2, 1000)
                if ready < 0 && errno != EINTR {
                    throw RedisError(.connectionLost, "poll failed: errno \(errno)")
                }
                if descriptors[1].revents != 0 { wake.drain() }
                if descriptors[0].revents != 0 { try connection.readAvailable() }

                let now = ContinuousClock.now
                if let pingSentAt {
                    if now - pingSentAt > configuration.commandTimeout {
                        throw RedisError(.timeout, "\(connection.endpoint): no answer to PING")
                    }
                } else if now - lastTraffic > Self.idlePing {
                    try connection.append([Array("PING".utf8)])
                    try connection.flush()
                    pingSentAt = now
                }
            } catch {
                logger.warning("redis subscriber: connection lost; reconnecting", metadata: ["error": "\(error)"])
                connector.forget(connection.endpoint)
                state.withLock { state in
                    state.connected = false
                    state.outbox.removeAll()
                    state.subscribedChannels.removeAll()
                    state.subscribedPatterns.removeAll()
                }
                context = nil
                outage = true
                backoff = RedisPool.initialBackoff
                wake.wait(backoff)
            }
        }
        context = nil
        let waiters = state.withLock { state in
            state.connected = false
            state.readerFinished = true
            defer { state.closeWaiters.removeAll() }
            return state.closeWaiters
        }
        finishAll()
        for waiter in waiters { waiter.resume() }
    }

    /// Opens the connection (through sentinel discovery when configured, so a reconnect follows the
    /// master) and sends the whole subscription set; from then on new subscriptions go through the outbox.
    private func connect() throws(RedisError) -> RedisContext {
        let context = try connector.connect()
        let (channels, patterns) = state.withLock { state in
            state.connected = true
            state.outbox.removeAll()
            state.subscribedChannels = state.wantedChannels
            state.subscribedPatterns = state.wantedPatterns
            return (state.subscribedChannels, state.subscribedPatterns)
        }
        do throws(RedisError) {
            if !channels.isEmpty { try context.append((["SUBSCRIBE"] + channels.sorted()).map { Array($0.utf8) }) }
            if !patterns.isEmpty { try context.append((["PSUBSCRIBE"] + patterns.sorted()).map { Array($0.utf8) }) }
            try context.flush()
        } catch {
            state.withLock { state in
                state.connected = false
                state.subscribedChannels.removeAll()
                state.subscribedPatterns.removeAll()
            }
            throw error
        }
        return context
    }

    /// Routes one push reply: messages to the streams listening, confirmations to waiting `subscribe` calls.
    private func dispatch(_ reply: RedisValue) {
        guard let parts = reply.array, let kind = parts.first?.string else {
            if case .error(let message) = reply { logger.warning("redis subscriber: server error", metadata: ["error": "\(message)"]) }
            return
        }
        switch kind {
        case "message" where parts.count == 3:
            guard let channel = parts[1].string else { return }
            deliver(RedisPubSubMessage(channel: channel, pattern: nil, payload: parts[2].bytes ?? [])) { $0.channels.contains(channel) }
        case "pmessage" where parts.count == 4:
            guard let pattern = parts[1].string, let channel = parts[2].string else { return }
            deliver(RedisPubSubMessage(channel: channel, pattern: pattern, payload: parts[3].bytes ?? [])) { $0.patterns.contains(pattern) }
        case "subscribe", "psubscribe":
            guard parts.count >= 2, let name = parts[1].string else { return }
            let key: SubscriptionKey = kind == "subscribe" ? .channel(name) : .pattern(name)
            for waiter in state.withLock({ $0.confirm(key) }) { waiter.resume() }
        default:
            break  // unsubscribe confirmations, pong
        }
    }

    private func deliver(_ message: RedisPubSubMessage, to matches: (Registration) -> Bool) {
        let targets = state.withLock { state in state.registrations.values.filter(matches).map(\.continuation) }
        for continuation in targets {
            if case .dropped = continuation.yield(message) {
                logger.warning("redis subscriber: consumer too slow, message dropped", metadata: ["channel": "\(message.channel)"])
            }
        }
    }
}
