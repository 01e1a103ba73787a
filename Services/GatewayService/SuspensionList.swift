import Core
import Logging
import RedisClient

/// Whether an admin has suspended a user (`PipelineKeys.suspended`, set by the user service).
///
/// Checked on every authenticated request, so a suspension takes effect at the user's next request
/// whatever token or key they hold. Like the rate limiter it lets requests through when Redis
/// cannot be asked (the user service still refuses a suspended user's login, refresh and API keys).
struct SuspensionList: Sendable {
    let redis: RedisPool
    let keys: PipelineKeys
    let logger: Logger

    func isSuspended(_ user: UserID) async -> Bool {
        do {
            return try await redis.send(["EXISTS", keys.suspended(user)]).int == 1
        } catch {
            logger.warning("suspension list unavailable; letting the request through", metadata: ["error": "\(error)"])
            return false
        }
    }
}
