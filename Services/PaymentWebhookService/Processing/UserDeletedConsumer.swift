import Core
import Logging
import RedisClient
import ServiceKit

/// `user.deleted` from user's account events: the account is recorded as deleted and its live
/// subscriptions become due for cancellation (`SubscriptionCanceller` sends them to Lemon Squeezy).
/// Idempotent: a redelivered event finds the account recorded and nothing more to mark.
struct UserDeletedConsumer: EventStreamConsumer {
    let cancellations: PostgresCancellationRepository
    let reader: EventStreamReader
    let logger: Logger

    func handle(_ messages: [RedisStreamMessage]) async throws {
        try await reader.each(UserDeleted.self, in: messages) { event in
            let due = try await cancellations.recordDeletion(of: event.data.userID, deletedAt: event.data.deletedAt)
            logger.notice("deleted account recorded", metadata: ["user_id": "\(event.data.userID)", "subscriptions_to_cancel": "\(due)"])
        }
    }
}
