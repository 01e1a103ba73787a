import Core
import Foundation

/// `user.deleted` on `PipelineKeys.userEvents`: an account was deleted; services that keep things
/// of that user (gallery: images and their objects) remove them. Consumers are idempotent.
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
    /// Account events from user (`user.deleted`); gallery reads them in its group.
    var userEvents: String { "\(namespace):events:user" }
}
