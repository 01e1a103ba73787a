import Core
import Foundation
import Logging
import RedisClient
import ServiceKit
import ServiceLifecycle

/// `user.deleted` from user's account events: the account's images go, records and objects.
///
/// Idempotent (a redelivery finds nothing left to delete). A record is deleted before its objects,
/// so nobody reaches a file whose record is gone; an object that cannot be deleted is logged (only
/// disk space is lost), as for a single deletion.
struct UserDeletedConsumer: EventStreamConsumer {
    let repository: any ImageRepository
    let storage: any ImageStorage
    let reader: EventStreamReader
    let logger: Logger

    func handle(_ messages: [RedisStreamMessage]) async throws {
        try await reader.each(UserDeleted.self, in: messages) { event in
            let deleted = try await repository.deleteAll(owner: event.data.userID)
            for image in deleted {
                for key in [image.storageKey] + (image.thumbnailKey.map { [$0] } ?? []) {
                    do {
                        try await storage.delete(key)
                    } catch {
                        logger.error("could not delete an image file of a deleted account", metadata: ["image_id": "\(image.id)", "error": "\(error)"])
                    }
                }
            }
            logger.notice("images of a deleted account removed", metadata: ["user_id": "\(event.data.userID)", "images": "\(deleted.count)"])
        }
    }
}
