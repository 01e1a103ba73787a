import Foundation

/// Where image bytes live, by storage key (`<user id>/<image id>.png`).
protocol ImageStorage: Sendable {
    /// The bytes under `key`, or nil when there are none.
    func read(_ key: String) async throws -> [UInt8]?
    /// Removes `key`; removing a missing key is not an error.
    func delete(_ key: String) async throws
}

/// `ImageStorage` on a local (or mounted shared) folder.
struct FileSystemImageStorage: ImageStorage {
    let root: URL

    init(directory: String) {
        root = URL(fileURLWithPath: directory, isDirectory: true)
    }

    func read(_ key: String) async throws -> [UInt8]? {
        let url = try location(of: key)
        return try await Self.offPool {
            guard FileManager.default.fileExists(atPath: url.path) else { return nil }
            return [UInt8](try Data(contentsOf: url))
        }
    }

    func delete(_ key: String) async throws {
        let url = try location(of: key)
        try await Self.offPool {
            if FileManager.default.fileExists(atPath: url.path) { try FileManager.default.removeItem(at: url) }
        }
    }

    /// Keys are `<segment>/<segment>` of safe characters; anything else (`..`, absolute paths) is refused.
    func location(of key: String) throws -> URL {
        let segments = key.split(separator: "/", omittingEmptySubsequences: false)
        let safe = !segments.isEmpty && segments.allSatisfy { segment in
            !segment.isEmpty && segment != "." && segment != ".."
                && segment.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0) }
        }
        guard safe else { throw StorageKeyError(key: key) }
        return root.appendingPathComponent(key)
    }

    /// File I/O runs on a Dispatch thread, not Swift's cooperative pool.
    static func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
        }
    }
}

struct StorageKeyError: Error, CustomStringConvertible {
    let key: String
    var description: String { "unsafe storage key" }
}
