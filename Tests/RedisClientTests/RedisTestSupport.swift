import Logging
import RedisClient
import TestSupport
import Testing

/// All Redis suites, run one at a time: `TestStack` starts servers through `Process`, and
/// swift-corelibs-foundation's `Process.waitUntilExit()` can hang forever when two threads run
/// processes at once (seen here: `shared()` and `startPrivate` racing), so the suites that start,
/// stop and restart Redis must not overlap.
@Suite("RedisClient", .serialized, .timeLimit(.minutes(2)))
struct RedisClientTests {}

/// Builders and helpers shared by the Redis tests.
enum Redis {
    static let logger: Logger = {
        var logger = Logger(label: "redis-client-tests")
        logger.logLevel = .warning
        return logger
    }()

    static func pool(
        _ url: String? = nil, maxConnections: Int = 4, commandTimeout: Duration = .seconds(5), acquireTimeout: Duration = .seconds(5)
    ) throws -> RedisPool {
        let configuration = RedisConfiguration(
            url: try url ?? TestStack.shared().redisURL,
            maxConnections: maxConnections,
            connectTimeout: .seconds(1),
            commandTimeout: commandTimeout,
            acquireTimeout: acquireTimeout
        )
        return RedisPool(configuration: configuration, logger: logger)
    }

    /// Runs `body` with a fresh pool and closes the pool afterwards, also when `body` throws.
    static func withPool<T>(
        _ url: String? = nil, maxConnections: Int = 4, commandTimeout: Duration = .seconds(5), acquireTimeout: Duration = .seconds(5),
        _ body: (RedisPool) async throws -> T
    ) async throws -> T {
        let pool = try pool(url, maxConnections: maxConnections, commandTimeout: commandTimeout, acquireTimeout: acquireTimeout)
        return try await withClosing(pool, close: { await $0.close() }, body)
    }

    static func subscriber(_ url: String? = nil) throws -> RedisSubscriber {
        let configuration = RedisConfiguration(url: try url ?? TestStack.shared().redisURL, connectTimeout: .seconds(1))
        return RedisSubscriber(configuration: configuration, logger: logger)
    }
}
