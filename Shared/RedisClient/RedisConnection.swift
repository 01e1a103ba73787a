import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One pooled connection: a hiredis context plus the serial queue that every call on it runs on,
/// so blocking socket I/O never occupies Swift's cooperative thread pool.
///
/// `@unchecked Sendable` is safe because the only mutable, non-thread-safe member, `context`, is
/// touched exclusively inside blocks submitted to the serial `queue` (and by `deinit`, when no other
/// reference exists); `failed` is an atomic; everything else is immutable.
final class RedisConnection: @unchecked Sendable {
    private let context: RedisContext
    private let queue: DispatchQueue
    private let failed = Atomic<Bool>(false)
    let fileDescriptor: Int32
    /// The server this connection reached (in sentinel mode: the master discovery found).
    let endpoint: RedisEndpoint

    private init(context: RedisContext, queue: DispatchQueue) {
        self.context = context
        self.queue = queue
        self.fileDescriptor = context.fileDescriptor
        self.endpoint = context.endpoint
    }

    /// Opens a connection through `connector` (directly, or via sentinel discovery) on a fresh serial
    /// queue, which then runs every call on it; the blocking connect runs there too.
    static func open(using connector: RedisConnector) async throws -> RedisConnection {
        let queue = DispatchQueue(label: "redis.connection")
        return try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { () throws(RedisError) -> RedisConnection in
                    RedisConnection(context: try connector.connect(), queue: queue)
                }.mapError { $0 as any Error })
            }
        }
    }

    /// True once I/O on this connection failed or timed out, or a reply showed the server is a replica
    /// (`READONLY`, `MASTERDOWN`); the pool then drops it instead of reusing it.
    var isFailed: Bool { failed.load(ordering: .acquiring) }

    /// An idle connection should have nothing to read; readable (EOF, reset, or a stray reply) means it is dead.
    /// Only call while the connection sits idle in the pool.
    var looksDead: Bool {
        if isFailed { return true }
        var descriptor = pollfd(fd: fileDescriptor, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, 0) != 0
    }

    /// Runs `body` with the context on this connection's queue, with `timeout` as the socket timeout.
    func run<T: Sendable>(timeout: Duration?, _ body: @escaping @Sendable (RedisContext) throws(RedisError) -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                let context = self.context
                guard !context.hasFailed else {
                    continuation.resume(throwing: RedisError(.connectionLost, "\(context.endpoint): connection already failed"))
                    return
                }
                context.setTimeout(timeout)
                let result = Result { () throws(RedisError) -> T in try body(context) }
                if context.hasFailed || context.answeredAsReplica { self.failed.store(true, ordering: .releasing) }
                continuation.resume(with: result.mapError { $0 as any Error })
            }
        }
    }
}
