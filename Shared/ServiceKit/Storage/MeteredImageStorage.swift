package import Foundation
import Metrics

/// An `ImageStorage` that counts and times every operation of the one it wraps;
/// `ImageStorageFactory` always returns one.
///
/// - `pingvas_storage_operations_total{backend, operation, outcome}`: `backend` `folder` or `s3`;
///   `operation` write, read, head, delete, presign; `outcome` ok, missing (read/head of no object)
///   or error;
/// - `pingvas_storage_operation_seconds{backend, operation}`: wall time, retries included.
package struct MeteredImageStorage: ImageStorage {
    package let base: any ImageStorage
    let backend: String

    package init(_ base: any ImageStorage, backend: String) {
        self.base = base
        self.backend = backend
    }

    package func write(_ key: String, bytes: [UInt8]) async throws {
        try await measure("write") { try await base.write(key, bytes: bytes) }
    }

    package func read(_ key: String) async throws -> [UInt8]? {
        try await measure("read", missing: { $0 == nil }) { try await base.read(key) }
    }

    package func head(_ key: String) async throws -> StoredObject? {
        try await measure("head", missing: { $0 == nil }) { try await base.head(key) }
    }

    package func delete(_ key: String) async throws {
        try await measure("delete") { try await base.delete(key) }
    }

    package func presignedURL(for key: String, expires: Duration) async throws -> URL? {
        try await measure("presign") { try await base.presignedURL(for: key, expires: expires) }
    }

    package func cdnPath(for key: String) -> String? {
        base.cdnPath(for: key)
    }

    private func measure<T>(_ operation: String, missing: (T) -> Bool = { _ in false }, _ body: () async throws -> T) async throws -> T {
        let started = ContinuousClock.now
        let outcome: String
        defer {
            Timer(label: "pingvas_storage_operation_seconds", dimensions: [("backend", backend), ("operation", operation)])
                .recordInterval(ContinuousClock.now - started)
        }
        do {
            let value = try await body()
            outcome = missing(value) ? "missing" : "ok"
            Counter(label: "pingvas_storage_operations_total", dimensions: [("backend", backend), ("operation", operation), ("outcome", outcome)]).increment()
            return value
        } catch {
            Counter(label: "pingvas_storage_operations_total", dimensions: [("backend", backend), ("operation", operation), ("outcome", "error")]).increment()
            throw error
        }
    }
}
