import Logging

extension PostgresConnection {
    /// BEGIN; `body`; COMMIT. If `body` or COMMIT throws, ROLLBACK (even when the task is cancelled) and rethrow.
    nonisolated(nonsending) package func transaction<T: Sendable>(
        isolation: PostgresIsolationLevel = .readCommitted, _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        try await execute("BEGIN ISOLATION LEVEL \(isolation.rawValue)", [])
        do {
            let value = try await body(self)
            try await execute("COMMIT", [])
            return value
        } catch {
            do {
                _ = try await statement("ROLLBACK", [], cancellable: false)
            } catch {
                logger.debug("rollback failed; the connection will be discarded", metadata: ["error": "\(error)"])
                poison()
            }
            throw error
        }
    }
}
