/// Outbox rows waiting to be put on Redis streams.
protocol OutboxRepository: Sendable {
    /// Locks up to `limit` unsent rows (skipping rows another relay holds), hands each to `send` in id
    /// order and marks those it accepted as sent; returns how many were sent.
    ///
    /// When `send` throws, the rows sent before it are still marked and the error is rethrown.
    func relay(limit: Int, send: @Sendable (OutboxRow) async throws -> Void) async throws -> Int

    /// Deletes rows sent before `cutoff`; returns how many.
    func purgeSent(before cutoff: Duration) async throws -> Int
}

/// One outbox row.
struct OutboxRow: Sendable, Equatable {
    var id: Int64
    var stream: String
    var envelope: String
}
