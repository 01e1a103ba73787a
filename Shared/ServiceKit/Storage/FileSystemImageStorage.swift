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

    /// The file for `key`; unsafe keys are refused (`StorageKeyError.check`).
    package func location(of key: String) throws(StorageKeyError) -> URL {
        try StorageKeyError.check(key)
        return root.appendingPathComponent(key)
    }

    package func head(_ key: String) async throws -> StoredObject? {
        let url = try location(of: key)
        return await executor.run {
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: url.path),
                (attributes[.type] as? FileAttributeType) == .typeRegular
            else { return nil }
            let size = (attributes[.size] as? NSNumber)?.intValue ?? 0
            let modified = attributes[.modificationDate] as? Date ?? Date(timeIntervalSince1970: 0)
            // Files are written once under a fresh name and never changed in place, so size and
            // modification time identify the bytes.
            let stamp = Int64((modified.timeIntervalSince1970 * 1_000_000).rounded())
            return StoredObject(size: size, etag: "\"\(String(size, radix: 16))-\(String(stamp, radix: 16))\"", lastModified: modified)
        }
    }

    package func presignedURL(for key: String, expires: Duration) async throws -> URL? { nil }

    package func cdnPath(for key: String) -> String? { nil }
}
