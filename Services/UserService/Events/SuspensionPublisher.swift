import Core
import Foundation
import Logging
import RedisClient
import ServiceKit
import ServiceLifecycle

/// Keeps `PipelineKeys.suspended` in Redis in step with `users.suspended_at`, so a suspension
/// survives Redis losing its data (a restart without persistence, a failover): every `interval`
/// it sets the key of every suspended user again. Restoring deletes the key at once (AdminController).
struct SuspensionPublisher: Service {
    let admin: any AdminRepository
    let redis: RedisPool
    let keys: PipelineKeys
    let interval: Duration
    let ready: @Sendable () -> Bool
    let logger: Logger

    func run() async throws {
        while !Background.shouldStop {
            if ready() { await publish() }
            await Background.pause(interval)
        }
    }

    func publish() async {
        do {
            let suspended = try await admin.suspendedUsers()
            guard !suspended.isEmpty else { return }
            _ = try await redis.pipeline(suspended.map { ["SET", keys.suspended($0), "1"] })
        } catch {
            logger.warning("could not republish suspensions", metadata: ["error": "\(error)"])
        }
    }
}
