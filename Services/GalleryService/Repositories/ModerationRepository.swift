import Core
import Foundation
import ServiceKit

/// Reports of public images and what admins decided about them.
protocol ModerationRepository: Sendable {
    /// Records `reporter`'s report of `image`; false when they had reported it already.
    func report(_ image: ImageID, reporter: UserID, reason: String) async throws -> Bool
    /// Reports, newest first.
    func reports(after cursor: PageCursor?, limit: Int) async throws -> [ImageReport]
    /// Hides (`hide`) or restores the image and records the admin's action in the same transaction;
    /// the updated image, or nil when there is none.
    func setHidden(_ image: ImageID, hide: Bool, admin: UserID, reason: String?) async throws -> ImageRecord?
    /// Admin actions, newest first.
    func actions(after cursor: PageCursor?, limit: Int) async throws -> [ModerationAction]
}

/// One user's report of one image.
struct ImageReport: Sendable, Equatable {
    var id: UUID
    var imageID: ImageID
    var reporterID: UserID
    var reason: String
    var createdAt: Date
    /// Whether the image is hidden now.
    var imageHidden: Bool
    /// How many users reported the image.
    var imageReports: Int
}

/// One admin decision.
struct ModerationAction: Sendable, Equatable {
    var id: UUID
    var imageID: ImageID
    var adminID: UserID
    var action: String
    var reason: String?
    var createdAt: Date
}
