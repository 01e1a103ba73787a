import Core
import ServiceKit

/// Where the gallery keeps image records.
protocol ImageRepository: Sendable {
    /// Records the images of a completed generation; an image already recorded is left as it is.
    /// Returns how many were new.
    func record(_ images: [ImageRecord]) async throws -> Int
    /// One image, or nil.
    func find(_ id: ImageID) async throws -> ImageRecord?
    /// The owner's images, newest first, optionally matching a full-text query on prompt and title.
    func list(owner: UserID, query: String?, after cursor: PageCursor?, limit: Int) async throws -> [ImageRecord]
    /// Public images of everyone, newest first.
    func listPublic(after cursor: PageCursor?, limit: Int) async throws -> [ImageRecord]
    /// Applies `changes` when `owner` owns the image; nil when there is no such image of theirs.
    func update(_ id: ImageID, owner: UserID, changes: ImageChanges) async throws -> ImageRecord?
    /// Deletes the record when `owner` owns it; returns the deleted record.
    func delete(_ id: ImageID, owner: UserID) async throws -> ImageRecord?
    /// Deletes every image of `owner` (a deleted account); the records deleted, for their objects.
    func deleteAll(owner: UserID) async throws -> [ImageRecord]
}
