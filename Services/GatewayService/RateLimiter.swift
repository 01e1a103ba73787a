import Core
import Foundation
import Logging
import RedisClient

/// Fixed windows in Redis (one minute, or longer for signups per network), per client IP and per user.
///
/// One script call counts the request against every key it names and returns each count with the
/// milliseconds left in its window, so a rejection can say when to retry. When Redis cannot be
/// reached the request is let through: a rate limiter must not take the whole API down with it.
struct RateLimiter: Sendable {
    struct Limit: Sendable {
        let key: String
        /// Requests allowed per window; 0 or less: no limit.
        let perMinute: Int
        var window: Duration = .seconds(60)

        init(key: String, perMinute: Int) {
            self.key = key
            self.perMinute = perMinute
        }

        init(key: String, count: Int, per window: Duration) {
            self.key = key
            self.perMinute = count
            self.window = window
        }
    }

    let redis: RedisPool
    let keys: PipelineKeys
    let logger: Logger

    static let script = RedisScript("""
        local result = {}
        for i, key in ipairs(KEYS) do
            local count = redis.call('INCR', key)
            if count == 1 then redis.call('PEXPIRE', key, ARGV[i]) end
            local ttl = redis.call('PTTL', key)
            result[#result + 1] = count
            result[#result + 1] = ttl
        end
        return result
        """)

    /// Seconds until the caller may retry, or nil when every limit still has room.
    func check(_ limits: [Limit]) async -> Int? {
        let active = limits.filter { $0.perMinute > 0 }
        guard !active.isEmpty else { return nil }
        // Wall-clock windows, so every gateway replica counts into the same one.
        let nowMilliseconds = Int64(Date().timeIntervalSince1970 * 1000)
        let sizes = active.map { max(Int64($0.window.components.seconds) * 1000, 1000) }
        let counters = zip(active, sizes).map { keys.rateLimit($0.key, window: nowMilliseconds / $1) }
        let left = sizes.map { String($0 - nowMilliseconds % $0) }
        do {
            let reply = try await redis.evalsha(Self.script, keys: counters, arguments: left)
            let values = reply.array?.compactMap(\.int) ?? []
            var retryAfter: Int?
            for (index, limit) in active.enumerated() where index * 2 + 1 < values.count {
                let count = values[index * 2]
                let ttl = max(values[index * 2 + 1], 1)
                if count > limit.perMinute {
                    retryAfter = max(retryAfter ?? 0, Int((ttl + 999) / 1000))
                }
            }
            return retryAfter
        } catch {
            logger.warning("rate limiter unavailable; letting the request through", metadata: ["error": "\(error)"])
            return nil
        }
    }
}
