package import Foundation

/// Integration event: an account was deleted (`user.deleted` on `PipelineKeys.userEvents`, put there
/// by user's `DeletionAnnouncer`). Services that keep things of that user remove them: gallery its
/// images and their objects, generation its webhook endpoints and per-job signing secret,
/// payment-webhook cancels its subscriptions at Lemon Squeezy.
/// Consumers are idempotent (an announcement may come again).
package struct UserDeleted: WireMessage, Equatable {
    package static let type = "user.deleted"

    package var userID: UserID
    package var deletedAt: Date

    package init(userID: UserID, deletedAt: Date) {
        self.userID = userID
        self.deletedAt = deletedAt
    }

    enum CodingKeys: String, CodingKey {
        case userID = "user_id"
        case deletedAt = "deleted_at"
    }
}
