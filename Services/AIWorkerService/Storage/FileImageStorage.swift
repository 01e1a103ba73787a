import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Filesystem storage under `PINGVAS_STORAGE_DIR`: `<dir>/<user id>/<image id>.png`.
///
/// Writes go to a temporary file in the same folder, then `rename(2)` puts it in place, so a reader
/// (gallery) never sees half a PNG. File I/O runs on its own dispatch queue.
struct FileImageStorage: ImageStorage {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let root: URL
    private let executor = BlockingExecutor(label: "ai-worker.storage")

    init(root: String) {
        self.root = URL(fileURLWithPath: root, isDirectory: true)
    }

    func url(for key: String) throws -> URL {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        guard !parts.isEmpty, parts.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." }) else {
            throw Failure(description: "storage key \(key) is not a relative path")
        }
        return root.appendingPathComponent(key)
    }

    func write(key: String, bytes: [UInt8]) async throws {
        let target = try url(for: key)
        try await executor.run {
            let folder = target.deletingLastPathComponent()
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let temporary = folder.appendingPathComponent(".\(target.lastPathComponent).\(UUID().uuidString.prefix(8)).tmp")
            do {
                try Data(bytes).write(to: temporary)
                guard rename(temporary.path, target.path) == 0 else {
                    throw Failure(description: "cannot rename into \(key): errno \(errno)")
                }
            } catch {
                try? FileManager.default.removeItem(at: temporary)
                throw error
            }
        }
    }

    func delete(key: String) async throws {
        let target = try url(for: key)
        try await executor.run {
            if FileManager.default.fileExists(atPath: target.path) { try FileManager.default.removeItem(at: target) }
        }
    }
}
