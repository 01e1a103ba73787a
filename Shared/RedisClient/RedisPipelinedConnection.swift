import Foundation
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Many concurrent commands on one connection: callers queue their commands, one I/O thread writes
/// whatever has queued in one go and hands the replies back in order as they arrive (Redis answers
/// the commands of one connection in the order it received them).
///
/// So a thousand concurrent `GET`s cost one connection, one thread and a handful of `write`/`read`
/// calls instead of a thousand hops onto per-connection queues. The thread never sits inside a
/// blocking hiredis read: it `poll`s the socket and a wake pipe and reads only what is there. Blocking
/// commands (`BLPOP`, `XREADGROUP ... BLOCK`) and pub/sub must not come here: they would stall every
/// command queued behind them, so `RedisPool` keeps them on its leased connections.
///
/// Failures follow the pool's rules: every command in flight when the connection breaks or the oldest
/// one passes the command timeout fails (`connectionLost`, `timeout`); nothing is retried; while the
/// server is unreachable, new commands fail at once with `connectionFailed` for a backoff window
/// (50 ms doubling to the connector's maximum). A `-READONLY`/`-MASTERDOWN` reply (the server was
/// demoted) is returned to its caller, and the connection is then replaced through the sentinels.
///
/// The shared state is a `Mutex` and the wake pipe is thread-safe; the hiredis context lives only in
/// the I/O thread's `IOState`. The thread holds the connection weakly between turns, so a pool dropped
/// without `close()` still lets its thread end.
final class RedisPipelinedConnection: Sendable {
    struct Pending: Sendable {
        let commands: [[[UInt8]]]
        let continuation: CheckedContinuation<[RedisValue], any Error>
    }

    private struct State {
        var queue: [Pending] = []
        var closed = false
        var running = false
        var failures = 0
        var retryAt: ContinuousClock.Instant?
    }

    private let connector: RedisConnector
    private let logger: Logger
    private let commandTimeout: Duration
    private let state = Mutex(State())
    private let wake = WakePipe()

    init(connector: RedisConnector, commandTimeout: Duration, logger: Logger) {
        self.connector = connector
        self.commandTimeout = commandTimeout
        self.logger = logger
    }

    /// Sends `commands` back to back (nothing else in between on the connection) and returns their
    /// replies in order; error replies stay in place as `.error`.
    func send(_ commands: [[[UInt8]]]) async throws -> [RedisValue] {
        guard !commands.isEmpty else { return [] }
        return try await withCheckedThrowingContinuation { continuation in
            let (refusal, start) = state.withLock { state -> (RedisError?, Bool) in
                if state.closed { return (RedisError(.poolClosed, "pool closed"), false) }
                if let retryAt = state.retryAt, ContinuousClock.now < retryAt {
                    return (RedisError(.connectionFailed, "server unreachable; next attempt after backoff"), false)
                }
                state.queue.append(Pending(commands: commands, continuation: continuation))
                defer { state.running = true }
                return (nil, !state.running)
            }
            if let refusal {
                continuation.resume(throwing: refusal)
                return
            }
            if start {
                let thread = Thread { [weak self] in
                    let io = IOState()
                    while let owner = self, owner.step(io) {}
                }
                thread.name = "pingvas-redis-pipeline"
                thread.start()
            } else {
                wake.signal()
            }
        }
    }

    /// Fails what is queued or in flight with `poolClosed` and stops the thread (it closes the connection).
    func close() {
        state.withLock { $0.closed = true }
        wake.signal()
    }

    // MARK: The I/O thread

    /// What only the I/O thread touches.
    private final class IOState {
        var context: RedisContext?
        /// Commands written, oldest first, with the replies received so far.
        var inflight: [(pending: Pending, replies: [RedisValue], deadline: ContinuousClock.Instant)] = []
        var head = 0
        var outage = false
    }

    /// One turn of the loop; false once closed.
    private func step(_ io: IOState) -> Bool {
        let (batch, closed) = state.withLock { state in
            defer { state.queue.removeAll(keepingCapacity: true) }
            return (state.queue, state.closed)
        }
        if closed {
            failAll(io, batch: batch, RedisError(.poolClosed, "pool closed"))
            io.context = nil
            state.withLock { $0.running = false }
            return false
        }
        if io.context == nil {
            guard !batch.isEmpty else {
                wake.wait(.seconds(1))
                return true
            }
            do {
                let context = try connector.connect()
                context.setTimeout(commandTimeout)
                io.context = context
                state.withLock { state in
                    state.failures = 0
                    state.retryAt = nil
                }
                if io.outage { logger.info("redis: connected again", metadata: ["redis_endpoint": "\(context.endpoint)"]) }
                io.outage = false
            } catch {
                let failures = state.withLock { state in
                    state.failures += 1
                    state.retryAt = ContinuousClock.now + min(RedisPool.initialBackoff * (1 << min(state.failures - 1, 10)), connector.maximumBackoff)
                    return state.failures
                }
                if failures == 1 { logger.warning("redis: cannot connect", metadata: ["error": "\(error)"]) }
                io.outage = true
                for pending in batch { pending.continuation.resume(throwing: error) }
                return true
            }
        }
        guard let context = io.context else { return true }
        if context.answeredAsReplica && io.head == io.inflight.count {
            // A reply said READONLY (a demoted master) and nothing else is in flight: commands queued
            // since then go to the master the sentinels name now, not to this replica.
            connector.forget(context.endpoint)
            io.context = nil
            if !batch.isEmpty { state.withLock { $0.queue.insert(contentsOf: batch, at: 0) } }
            return true
        }
        do throws(RedisError) {
            if !batch.isEmpty {
                let deadline = ContinuousClock.now + commandTimeout
                for pending in batch {
                    for command in pending.commands { try context.append(command) }
                    io.inflight.append((pending, [], deadline))
                }
                try context.flush()
            }
            try deliverBuffered(io, context)
            if context.answeredAsReplica {
                connector.forget(context.endpoint)
                throw RedisError(.connectionLost, "\(context.endpoint) answered as a replica")
            }
            if io.head == io.inflight.count, !connector.isCurrent(context.endpoint) {
                io.context = nil  // the sentinels named another master: move with nothing in flight
                return true
            }

            var wait = 1000
            if io.head < io.inflight.count {
                let now = ContinuousClock.now
                let deadline = io.inflight[io.head].deadline
                guard now < deadline else { throw RedisError(.timeout, "\(context.endpoint): no reply within the command timeout") }
                wait = min(wait, max(1, Int(RedisPool.milliseconds(deadline - now))))
            }
            var descriptors = [
                pollfd(fd: context.fileDescriptor, events: Int16(POLLIN), revents: 0),
                pollfd(fd: wake.readDescriptor, events: Int16(POLLIN), revents: 0),
            ]
            let ready = poll(&descriptors, 2, Int32(wait))
            if ready < 0 && errno != EINTR { throw RedisError(.connectionLost, "poll failed: errno \(errno)") }
            if descriptors[1].revents != 0 { wake.drain() }
            if descriptors[0].revents != 0 {
                try context.readAvailable()
                try deliverBuffered(io, context)
            }
        } catch {
            if error.kind != .timeout { connector.forget(context.endpoint) }
            if io.head < io.inflight.count {
                logger.debug("redis: pipelined connection failed", metadata: ["error": "\(error)", "in_flight": "\(io.inflight.count - io.head)"])
            }
            failAll(io, batch: [], error)
            io.context = nil
        }
        return true
    }

    /// Hands every complete reply in hiredis' buffer to the oldest command waiting for one.
    private func deliverBuffered(_ io: IOState, _ context: RedisContext) throws(RedisError) {
        while let reply = try context.bufferedReply() {
            guard io.head < io.inflight.count else { throw RedisError(.protocolError, "\(context.endpoint): a reply nobody asked for") }
            io.inflight[io.head].replies.append(reply)
            if io.inflight[io.head].replies.count == io.inflight[io.head].pending.commands.count {
                let done = io.inflight[io.head]
                io.inflight[io.head].replies = []
                io.head += 1
                done.pending.continuation.resume(returning: done.replies)
            }
        }
        if io.head == io.inflight.count {
            io.inflight.removeAll(keepingCapacity: true)
            io.head = 0
        } else if io.head > 1024 {
            io.inflight.removeFirst(io.head)
            io.head = 0
        }
    }

    private func failAll(_ io: IOState, batch: [Pending], _ error: RedisError) {
        for entry in io.inflight[io.head...] { entry.pending.continuation.resume(throwing: error) }
        io.inflight.removeAll()
        io.head = 0
        for pending in batch { pending.continuation.resume(throwing: error) }
    }
}
