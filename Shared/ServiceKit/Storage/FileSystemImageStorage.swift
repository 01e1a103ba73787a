package import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `ImageStorage` on a local (or mounted shared) folder: `<root>/<user id>/<image id>.png`.
///
/// Writes go to a temporary file in the same folder, then `rename(2)` puts it in place, so a reader
/// never sees half a PNG. File I/O runs on its own dispatch queue, never on the cooperative pool.
package struct FileSystemImageStorage: ImageStorage {
    package let root: URL
    private let executor = BlockingExecutor(label: "pingvas.storage")

    package init(directory: String) {
        root = URL(fileURLWithPath: directory, isDirectory: true)
    }

    package func write(_ key: String, bytes: [UInt8]) async throws {
        let target = try location(of: key)
        try await executor.run {
            let folder = target.deletingLastPathComponent()
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let temporary = folder.appendingPathComponent(".\(target.lastPathComponent).\(UUID().uuidString.prefix(8)).tmp")
            do {
                try Data(bytes).write(to: temporary)
                guard rename(temporary.path, target.path) == 0 else { throw CocoaError(.fileWriteUnknown) }
            } catch {
                try? FileManager.default.removeItem(at: temporary)
                throw error
            }
        }
    }

    package func read(_ key: String) async throws -> [UInt8]? {
        let url = try location(of: key)
        return try await executor.run {
            guard FileManager.default.fileExists(atPath: url.path) else { return nil }
            return [UInt8](try Data(contentsOf: url))
        }
    }

    package func delete(_ key: String) async throws {
        let url = try location(of: key)
        try await executor.run {
            if FileManager.default.fileExists(atPath: url.path) { try FileManager.default.removeItem(at: url) }
        }
    }

    /// Keys are `/`-separated segments of letters, digits and `-_.`; anything else (`..`, absolute
    /// paths, empty segments) is refused.
    package func location(of key: String) throws(StorageKeyError) -> URL {
        let segments = key.split(separator: "/", omittingEmptySubsequences: false)
        let safe = !segments.isEmpty && segments.allSatisfy { segment in
            !segment.isEmpty && segment != "." && segment != ".."
                && segment.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0) }
        }
        guard safe else { throw StorageKeyError(key: key) }
        return root.appendingPathComponent(key)
    }
}
