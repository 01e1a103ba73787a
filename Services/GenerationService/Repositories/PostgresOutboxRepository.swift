import PostgresClient

/// `OutboxRepository` on the service's own schema.
struct PostgresOutboxRepository: OutboxRepository {
    let pool: PostgresPool

    func relay(limit: Int, send: @Sendable (OutboxRow) async throws -> Void) async throws -> Int {
        let (count, failure) = try await pool.transaction { connection -> (Int, String?) in
            let rows = try await connection.query(
                "SELECT id, stream, envelope FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
                [limit]
            ).map { row in
                OutboxRow(
                    id: try row.decode(Int64.self, "id"), stream: try row.decode(String.self, "stream"),
                    envelope: try row.decode(String.self, "envelope")
                )
            }
            var sent: [Int64] = []
            var failure: String?
            for row in rows {
                do {
                    try await send(row)
                    sent.append(row.id)
                } catch {
                    failure = "\(error)"
                    break
                }
            }
            if !sent.isEmpty {
                // Marking what did go out keeps a Redis outage from re-sending it later (it would be
                // harmless, consumers dedupe, but noisy).
                let ids = "{" + sent.map(String.init).joined(separator: ",") + "}"
                try await connection.execute("UPDATE outbox SET sent_at = now() WHERE id = ANY($1::bigint[])", [ids])
            }
            return (sent.count, failure)
        }
        // Thrown after COMMIT, so the rows that did go out stay marked.
        if let failure { throw RelayFailure(sent: count, reason: failure) }
        return count
    }

    func purgeSent(before cutoff: Duration) async throws -> Int {
        try await pool.execute(
            "DELETE FROM outbox WHERE sent_at IS NOT NULL AND sent_at < now() - make_interval(secs => $1)",
            [Double(cutoff.components.seconds)]
        )
    }
}

/// `send` failed after `sent` rows went out (those are marked sent; the rest wait for the next round).
struct RelayFailure: Error, CustomStringConvertible {
    var sent: Int
    var reason: String
    var description: String { "outbox relay sent \(sent) rows, then failed: \(reason)" }
}
