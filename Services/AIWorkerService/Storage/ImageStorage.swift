/// Where finished PNGs go; keys look like `<user id>/<image id>.png`.
protocol ImageStorage: Sendable {
    /// Stores `bytes` under `key` atomically (readers see the whole object or none); overwrites.
    func write(key: String, bytes: [UInt8]) async throws
    /// Removes `key` if present.
    func delete(key: String) async throws
}
