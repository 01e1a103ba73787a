import Core
import Foundation

/// One stored image with everything the API shows about it.
struct ImageRecord: Sendable, Equatable {
    var id: ImageID
    var generationID: JobID
    var userID: UserID
    var width: Int
    var height: Int
    var seed: Int64
    var prompt: String
    var negativePrompt: String?
    var model: String
    var engine: String
    var storageKey: String
    /// The small copy (longest side 256 px); nil for images from before thumbnails.
    var thumbnailKey: String? = nil
    /// How it was made; nil for images from before recipes were kept.
    var recipe: ImageRecipe? = nil
    /// Set while an admin has hidden it: only its owner sees it then.
    var hiddenAt: Date? = nil
    var hiddenReason: String? = nil
    var contentType: String
    var bytes: Int
    var visibility: ImageVisibility
    var title: String?
    var tags: [String]
    var createdAt: Date

    /// Who may read the record and its content: the owner always, others when it is neither
    /// private nor hidden by an admin.
    func isVisible(to caller: UserID?) -> Bool {
        caller == userID || (visibility != .private && hiddenAt == nil)
    }
}

/// What `PATCH /api/v1/images/{id}` may change.
struct ImageChanges: Sendable, Equatable {
    var visibility: ImageVisibility?
    var title: String??
    var tags: [String]?
}
