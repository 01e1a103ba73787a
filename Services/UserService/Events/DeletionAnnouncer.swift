import Core
import Foundation
import Logging
import RedisClient
import ServiceKit
import ServiceLifecycle

/// Puts `user.deleted` on `PipelineKeys.userEvents` for every deleted account not yet announced:
/// right after a deletion (`announce()`), and again every `interval` for any that failed then, so a
/// deletion is announced at least once whatever Redis did at the time.
struct DeletionAnnouncer: Service {
    let deletions: any AccountDeletionRepository
    let redis: RedisPool
    let keys: PipelineKeys
    let interval: Duration
    let ready: @Sendable () -> Bool
    let logger: Logger

    func run() async throws {
        while !Background.shouldStop {
            if ready() { await announce() }
            await Background.pause(interval)
        }
    }

    /// Announces what is pending; failures are logged and retried at the next round.
    func announce() async {
        do {
            let pending = try await deletions.unannounced(limit: 100)
            guard !pending.isEmpty else { return }
            for (id, deletedAt) in pending {
                let message = String(decoding: try WireCodec.encode(UserDeleted(userID: id, deletedAt: deletedAt)), as: UTF8.self)
                _ = try await redis.xadd(keys.userEvents, maxLength: 100_000, fields: [("m", message)])
            }
            try await deletions.markAnnounced(pending.map { $0.id })
            logger.info("account deletions announced", metadata: ["count": "\(pending.count)"])
        } catch {
            logger.warning("could not announce account deletions", metadata: ["error": "\(error)"])
        }
    }
}
