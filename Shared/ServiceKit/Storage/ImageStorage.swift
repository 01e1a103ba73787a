package import Foundation

/// Where image bytes live, by storage key (`<user id>/<image id>.png`).
///
/// ai-worker writes, gallery reads and deletes; both build it with `ImageStorageFactory` from the
/// same settings, so a key one accepts the other accepts too. Two implementations: a folder
/// (`FileSystemImageStorage`, the embedded default) and an S3 bucket (`S3ImageStorage`).
package protocol ImageStorage: Sendable {
    /// Stores `bytes` under `key` atomically (readers see the whole object or none); overwrites.
    func write(_ key: String, bytes: [UInt8]) async throws
    /// The bytes under `key`, or nil when there are none.
    func read(_ key: String) async throws -> [UInt8]?
    /// Size, entity tag and modification time of `key`, or nil when there is no such object.
    func head(_ key: String) async throws -> StoredObject?
    /// Removes `key`; removing a missing key is not an error.
    func delete(_ key: String) async throws
    /// A URL anyone may GET `key` from until `expires` has passed, or nil when this storage
    /// cannot hand out URLs (the filesystem: the service streams the bytes itself).
    func presignedURL(for key: String, expires: Duration) async throws -> URL?
    /// The object's path below a CDN whose origin is this storage (`<prefix>/<key>` in the
    /// bucket), or nil when no CDN can serve it (the filesystem).
    func cdnPath(for key: String) -> String?
}

/// What `head` knows about a stored object.
package struct StoredObject: Sendable, Equatable {
    package var size: Int
    /// A strong validator for the bytes (quoted, as HTTP sends it).
    package var etag: String
    package var lastModified: Date
    /// `x-amz-server-side-encryption` for S3 (`AES256`), nil for files.
    package var serverSideEncryption: String?

    package init(size: Int, etag: String, lastModified: Date, serverSideEncryption: String? = nil) {
        self.size = size
        self.etag = etag
        self.lastModified = lastModified
        self.serverSideEncryption = serverSideEncryption
    }
}

/// A storage key that is not `<segment>/<segment>` of safe characters (`..`, absolute paths, ...).
package struct StorageKeyError: Error, CustomStringConvertible {
    package let key: String
    package var description: String { "unsafe storage key" }

    /// Keys are `/`-separated segments of letters, digits and `-_.`; anything else (`..`, absolute
    /// paths, empty segments) is refused, by both implementations.
    package static func check(_ key: String) throws(StorageKeyError) {
        let segments = key.split(separator: "/", omittingEmptySubsequences: false)
        let safe = !segments.isEmpty && segments.allSatisfy { segment in
            !segment.isEmpty && segment != "." && segment != ".."
                && segment.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0) }
        }
        guard safe else { throw StorageKeyError(key: key) }
    }
}
