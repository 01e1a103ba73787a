import Core
import Foundation
import Logging
import RedisClient
import ServiceKit
import ServiceLifecycle

/// `user.deleted` from user's account events: the account's webhook endpoints (with their
/// deliveries, a job's own ones too) and its per-job signing secret go, so nothing more is sent on
/// its behalf. Idempotent. Jobs already accepted run on and settle their holds as usual.
struct UserDeletedConsumer: EventStreamConsumer {
    let webhooks: any WebhookRepository
    let reader: EventStreamReader
    let logger: Logger

    func handle(_ messages: [RedisStreamMessage]) async throws {
        for message in messages {
            do {
                if let event = try EventStreamReader.decode(UserDeleted.self, message) {
                    let removed = try await webhooks.deleteAll(user: event.data.userID.uuid)
                    logger.notice("webhooks of a deleted account removed", metadata: ["user_id": "\(event.data.userID)", "endpoints": "\(removed)"])
                }
            } catch let error as WireCodecError {
                try await reader.deadLetter(message, reason: error)
            }
            try await reader.acknowledge([message.id])
        }
    }
}

/// `user.deleted`, as user announces it (user's `UserDeleted`).
struct UserDeleted: WireMessage, Equatable {
    static let type = "user.deleted"
    var userID: UserID
    var deletedAt: Date

    enum CodingKeys: String, CodingKey {
        case userID = "user_id"
        case deletedAt = "deleted_at"
    }
}

extension PipelineKeys {
    /// Account events from user (`user.deleted`).
    var userEvents: String { "\(namespace):events:user" }
}
