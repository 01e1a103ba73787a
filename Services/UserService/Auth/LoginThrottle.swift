import Core
import HTTPTypes
import Foundation
import PingvasCrypto
import RedisClient
import ServiceKit

/// Per-account login throttling in Redis, with a lockout that grows with every further failure.
///
/// Failures are counted per account (the normalised email, hashed: no address in Redis) in a
/// window of `window`, whatever address they come from. From the `freeFailures`-th failure on, the
/// account is locked for `baseLockout` × 2^(failures − freeFailures), at most `maxLockout`; while
/// it is locked every attempt, right password or not, is answered 429 with `Retry-After` without
/// hashing anything. A successful login clears both. When Redis cannot be asked the login fails
/// closed (503): an unthrottled password endpoint is an open door for guessing.
struct LoginThrottle: Sendable {
    struct Policy: Sendable {
        var freeFailures = 5
        var baseLockout: Duration = .seconds(1)
        var maxLockout: Duration = .seconds(900)
        var window: Duration = .seconds(3600)
    }

    let redis: RedisPool
    let keys: PipelineKeys
    let policy: Policy

    /// Counts a failure and locks the account when it is past its free failures; returns the lock in milliseconds (0: none).
    static let failScript = RedisScript("""
        local failures = redis.call('INCR', KEYS[1])
        if failures == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
        local free = tonumber(ARGV[2])
        if failures < free then return 0 end
        local lock = tonumber(ARGV[3]) * (2 ^ math.min(failures - free, 30))
        lock = math.min(lock, tonumber(ARGV[4]))
        redis.call('SET', KEYS[2], failures, 'PX', math.floor(lock))
        return math.floor(lock)
        """)

    private func keys(for email: String) -> [String] {
        let account = SHA256Digest.hex(Array(email.utf8))
        return ["\(keys.namespace):login:failures:\(account)", "\(keys.namespace):login:lock:\(account)"]
    }

    /// 429 with `Retry-After` while `email` is locked out; 503 when Redis cannot say.
    func checkAllowed(email: String) async throws {
        let lockKey = keys(for: email)[1]
        let remaining: Int64
        do {
            remaining = try await redis.send(["PTTL", lockKey]).int ?? -2
        } catch {
            throw Self.unavailable
        }
        if remaining > 0 { throw Self.locked(milliseconds: remaining) }
    }

    /// Records a failed attempt; the 401 the caller throws next becomes a 429 once the account locks.
    func recordFailure(email: String) async throws {
        let lock: Int64
        do {
            lock = try await redis.evalsha(Self.failScript, keys: keys(for: email), arguments: [
                String(policy.window.milliseconds), String(policy.freeFailures), String(policy.baseLockout.milliseconds),
                String(policy.maxLockout.milliseconds),
            ]).int ?? 0
        } catch {
            throw Self.unavailable
        }
        if lock > 0 { throw Self.locked(milliseconds: lock) }
    }

    /// Clears the account's failures after a successful login (best effort: the window ends them anyway).
    func recordSuccess(email: String) async {
        _ = try? await redis.send(["DEL"] + keys(for: email))
    }

    static func locked(milliseconds: Int64) -> Problem {
        let seconds = max(1, Int((milliseconds + 999) / 1000))
        return Problem(
            .tooManyRequests, type: "login-throttled", title: "Too many failed logins",
            detail: "Too many failed logins for this account; try again in \(seconds) s.", headers: [.retryAfter: String(seconds)]
        )
    }

    static let unavailable = Problem(
        .serviceUnavailable, type: "dependency-unavailable", title: "Temporarily unavailable",
        detail: "Logins are paused while the login throttle (redis) is unavailable; retry shortly.",
        extensions: ["dependency": .string("redis")], headers: [.retryAfter: "2"]
    )
}

extension Duration {
    fileprivate var milliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }
}
