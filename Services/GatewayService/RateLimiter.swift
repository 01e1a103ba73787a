import Core
import Foundation
import Logging
import RedisClient

/// Fixed one-minute windows in Redis, per client IP and per user.
///
/// One script call counts the request against every key it names and returns each count with the
/// milliseconds left in its window, so a rejection can say when to retry. When Redis cannot be
/// reached the request is let through: a rate limiter must not take the whole API down with it.
struct RateLimiter: Sendable {
    struct Limit: Sendable {
        let key: String
        let perMinute: Int
    }

    let redis: RedisPool
    let keys: PipelineKeys
    let logger: Logger

    static let script = RedisScript("""
        local result = {}
        for i, key in ipairs(KEYS) do
            local count = redis.call('INCR', key)
            if count == 1 then redis.call('PEXPIRE', key, ARGV[1]) end
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
        // Wall-clock minutes, so every gateway replica counts into the same window.
        let nowMilliseconds = Int64(Date().timeIntervalSince1970 * 1000)
        let window = nowMilliseconds / 60_000
        let left = 60_000 - nowMilliseconds % 60_000
        let counters = active.map { keys.rateLimit($0.key, window: window) }
        do {
            let reply = try await redis.evalsha(Self.script, keys: counters, arguments: [String(left)])
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
