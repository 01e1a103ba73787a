/// Where image bytes live, by storage key (`<user id>/<image id>.png`).
///
/// ai-worker writes, gallery reads and deletes; both use the same implementation, so a key one
/// accepts the other accepts too.
package protocol ImageStorage: Sendable {
    /// Stores `bytes` under `key` atomically (readers see the whole object or none); overwrites.
    func write(_ key: String, bytes: [UInt8]) async throws
    /// The bytes under `key`, or nil when there are none.
    func read(_ key: String) async throws -> [UInt8]?
    /// Removes `key`; removing a missing key is not an error.
    func delete(_ key: String) async throws
}

/// A storage key that is not `<segment>/<segment>` of safe characters (`..`, absolute paths, ...).
package struct StorageKeyError: Error, CustomStringConvertible {
    package let key: String
    package var description: String { "unsafe storage key" }
}
