import CHiredis
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Owns one hiredis `redisContext`: the single place where this module calls into hiredis.
///
/// Not thread-safe and deliberately not `Sendable`: exactly one thread uses a context at a time
/// (a pooled connection's serial queue, or the subscriber's reader thread). Every call here may
/// block on the socket for up to the context's timeout.
final class RedisContext {
    private let context: UnsafeMutablePointer<redisContext>
    let endpoint: RedisEndpoint
    /// The socket, fixed for the context's lifetime; safe to `poll` from any thread.
    let fileDescriptor: Int32

    private init(context: UnsafeMutablePointer<redisContext>, endpoint: RedisEndpoint) {
        self.context = context
        self.endpoint = endpoint
        self.fileDescriptor = context.pointee.fd
    }

    deinit { redisFree(context) }

    /// Connects, authenticates and selects the database; blocks for up to `connectTimeout` per step.
    static func connect(to endpoint: RedisEndpoint, connectTimeout: Duration, commandTimeout: Duration) throws(RedisError) -> RedisContext {
        guard let raw = redisConnectWithTimeout(endpoint.host, Int32(endpoint.port), timeval(connectTimeout)) else {
            throw RedisError(.connectionFailed, "\(endpoint): out of memory")
        }
        if raw.pointee.err != 0 {
            let message = errorText(raw)
            redisFree(raw)
            throw RedisError(.connectionFailed, "\(endpoint): \(message)")
        }
        let context = RedisContext(context: raw, endpoint: endpoint)
        _ = redisEnableKeepAlive(raw)
        context.setTimeout(commandTimeout)
        do throws(RedisError) {
            if let password = endpoint.password {
                let auth = ["AUTH"] + (endpoint.username.map { [$0] } ?? []) + [password]
                if case .error(let message) = try context.command(auth.map { Array($0.utf8) }) {
                    throw RedisError(.connectionFailed, "\(endpoint): authentication failed: \(message)")
                }
            }
            if endpoint.database != 0, case .error(let message) = try context.command([Array("SELECT".utf8), Array(String(endpoint.database).utf8)]) {
                throw RedisError(.connectionFailed, "\(endpoint): SELECT \(endpoint.database) failed: \(message)")
            }
        } catch {
            throw error.kind == .connectionFailed ? error : RedisError(.connectionFailed, error.detail)
        }
        return context
    }

    /// True once an I/O or protocol error happened; hiredis refuses further use, so the owner discards it.
    var hasFailed: Bool { context.pointee.err != 0 }

    /// True once a reply said this server is not the master (`-READONLY`: a write reached a replica;
    /// `-MASTERDOWN`: a replica without its master). The context still works, but its owner should
    /// discard it and find the master again: after a failover, this server was demoted.
    private(set) var answeredAsReplica = false

    private func noted(_ value: RedisValue) -> RedisValue {
        if case .error(let message) = value, message.hasPrefix("READONLY") || message.hasPrefix("MASTERDOWN") {
            answeredAsReplica = true
        }
        return value
    }

    /// Read and write timeout for the socket; `nil` waits forever (used for `BLPOP key 0`).
    func setTimeout(_ timeout: Duration?) {
        _ = redisSetTimeout(context, timeout.map(timeval.init) ?? timeval(tv_sec: 0, tv_usec: 0))
    }

    /// Sends one command and waits for its reply. Error replies come back as `.error`, not thrown.
    func command(_ arguments: [[UInt8]]) throws(RedisError) -> RedisValue {
        let reply = Self.withArgv(arguments) { argc, argv, lengths in redisCommandArgv(context, argc, argv, lengths) }
        guard let reply else { throw failure() }
        defer { freeReplyObject(reply) }
        return noted(try Self.value(reply.assumingMemoryBound(to: redisReply.self)))
    }

    /// Queues a command in the output buffer without sending it.
    func append(_ arguments: [[UInt8]]) throws(RedisError) {
        let status = Self.withArgv(arguments) { argc, argv, lengths in redisAppendCommandArgv(context, argc, argv, lengths) }
        guard status == REDIS_OK else { throw failure() }
    }

    /// Blocking: flushes the output buffer if needed, then waits for the next reply.
    func nextReply() throws(RedisError) -> RedisValue {
        var reply: UnsafeMutableRawPointer?
        guard redisGetReply(context, &reply) == REDIS_OK, let reply else { throw failure() }
        defer { freeReplyObject(reply) }
        return noted(try Self.value(reply.assumingMemoryBound(to: redisReply.self)))
    }

    /// Writes the whole output buffer.
    func flush() throws(RedisError) {
        var done: Int32 = 0
        while done == 0 {
            guard redisBufferWrite(context, &done) == REDIS_OK else { throw failure() }
        }
    }

    /// Reads what the socket has into hiredis' reader. Call only after `poll` reported the socket readable,
    /// so the read never waits; end of file becomes `connectionLost`.
    func readAvailable() throws(RedisError) {
        guard redisBufferRead(context) == REDIS_OK else { throw failure() }
    }

    /// A complete reply already in the reader's buffer, without touching the socket; `nil` if none is complete yet.
    func bufferedReply() throws(RedisError) -> RedisValue? {
        var reply: UnsafeMutableRawPointer?
        guard redisGetReplyFromReader(context, &reply) == REDIS_OK else { throw failure() }
        guard let reply else { return nil }
        defer { freeReplyObject(reply) }
        return noted(try Self.value(reply.assumingMemoryBound(to: redisReply.self)))
    }

    /// Turns the context's error state into a `RedisError`; `errno` must still be the failing call's.
    private func failure() -> RedisError {
        let code = errno
        let message = Self.errorText(context)
        switch context.pointee.err {
        case REDIS_ERR_IO where code == EAGAIN || code == EWOULDBLOCK:
            return RedisError(.timeout, "\(endpoint): no reply within the command timeout")
        case REDIS_ERR_EOF:
            return RedisError(.connectionLost, "\(endpoint): server closed the connection")
        case REDIS_ERR_PROTOCOL:
            return RedisError(.protocolError, "\(endpoint): \(message)")
        case 0:
            return RedisError(.connectionLost, "\(endpoint): command failed without an error")
        default:
            return RedisError(.connectionLost, "\(endpoint): \(message)")
        }
    }

    private static func errorText(_ context: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: context.pointee.errstr) { raw in
            let bytes = raw.prefix { $0 != 0 }
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    /// Copies a reply tree into a Swift value; the caller frees the C reply.
    private static func value(_ reply: UnsafeMutablePointer<redisReply>) throws(RedisError) -> RedisValue {
        let node = reply.pointee
        func bytes() -> [UInt8] {
            guard let text = node.str, node.len > 0 else { return [] }
            return Array(UnsafeRawBufferPointer(start: text, count: node.len))
        }
        switch node.type {
        case REDIS_REPLY_STRING: return .bulk(bytes())
        case REDIS_REPLY_STATUS: return .status(String(decoding: bytes(), as: UTF8.self))
        case REDIS_REPLY_ERROR: return .error(String(decoding: bytes(), as: UTF8.self))
        case REDIS_REPLY_INTEGER: return .integer(Int64(node.integer))
        case REDIS_REPLY_NIL: return .null
        case REDIS_REPLY_ARRAY:
            var elements: [RedisValue] = []
            elements.reserveCapacity(node.elements)
            for index in 0..<node.elements {
                guard let child = node.element[index] else { throw RedisError(.protocolError, "array element \(index) missing") }
                elements.append(try value(child))
            }
            return .array(elements)
        default:
            throw RedisError(.protocolError, "unknown reply type \(node.type)")
        }
    }

    /// Lays the arguments out as C strings with explicit lengths (binary safe) for the `...Argv` calls.
    private static func withArgv<R>(
        _ arguments: [[UInt8]],
        _ body: (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafePointer<Int>) -> R
    ) -> R {
        let total = arguments.reduce(0) { $0 + $1.count }
        let storage = UnsafeMutablePointer<CChar>.allocate(capacity: max(total, 1))
        defer { storage.deallocate() }
        var pointers: [UnsafePointer<CChar>?] = []
        var lengths: [Int] = []
        pointers.reserveCapacity(arguments.count)
        lengths.reserveCapacity(arguments.count)
        var offset = 0
        for argument in arguments {
            argument.withUnsafeBytes { source in
                if let base = source.baseAddress { UnsafeMutableRawPointer(storage + offset).copyMemory(from: base, byteCount: source.count) }
            }
            pointers.append(UnsafePointer(storage + offset))
            lengths.append(argument.count)
            offset += argument.count
        }
        return pointers.withUnsafeMutableBufferPointer { argv in
            lengths.withUnsafeBufferPointer { lengths in
                body(Int32(arguments.count), argv.baseAddress!, lengths.baseAddress!)
            }
        }
    }
}

extension timeval {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        let clamped = max(Int64(0), seconds)
        self.init(tv_sec: Int(clamped), tv_usec: .init(seconds < 0 ? 0 : attoseconds / 1_000_000_000_000))
    }
}
