import Foundation
import PostgresClient

/// `DeliveryRepository` on the service's own schema, plus the statements the processor runs
/// inside its claim transaction.
struct PostgresDeliveryRepository: DeliveryRepository {
    let pool: PostgresPool

    func store(_ delivery: NewDelivery) async throws -> Bool {
        let inserted = try await pool.execute(
            """
            INSERT INTO webhook_deliveries (id, dedupe_key, event_name, test_mode, body, status, last_error, processed_at)
            VALUES ($1::uuid, $2, $3, $4, $5::bytea, $6, $7, CASE WHEN $6::text = 'pending' THEN NULL ELSE now() END)
            ON CONFLICT (dedupe_key) DO NOTHING
            """,
            [delivery.id, delivery.dedupeKey, delivery.eventName, delivery.testMode, delivery.body, delivery.status.rawValue, delivery.lastError]
        )
        return inserted == 1
    }

    /// Locks the oldest due pending delivery for the rest of the transaction, skipping ones other
    /// processors hold; nil when none is due.
    static func claimNext(on connection: PostgresConnection) async throws -> ClaimedDelivery? {
        guard let row = try await connection.query(
            """
            SELECT id, event_name, body, attempts FROM webhook_deliveries
            WHERE status = 'pending' AND next_attempt_at <= now()
            ORDER BY next_attempt_at, received_at
            LIMIT 1
            FOR UPDATE SKIP LOCKED
            """
        ).first else { return nil }
        return ClaimedDelivery(
            id: try row.decode(UUID.self, "id"), eventName: try row.decode(String.self, "event_name"),
            body: try row.decode([UInt8].self, "body"), attempts: try row.decode(Int.self, "attempts")
        )
    }

    static func markProcessed(_ id: UUID, note: String?, on connection: PostgresConnection) async throws {
        try await connection.execute(
            "UPDATE webhook_deliveries SET status = 'processed', attempts = attempts + 1, processed_at = now(), last_error = $2 WHERE id = $1::uuid",
            [id, note]
        )
    }

    /// Records a failed attempt: back to `pending` after `retryIn`, or `failed` when `retryIn` is nil.
    static func markAttemptFailed(_ id: UUID, error: String, retryIn: Duration?, on connection: PostgresConnection) async throws {
        let milliseconds = retryIn.map { Int64($0.components.seconds * 1000 + $0.components.attoseconds / 1_000_000_000_000_000) }
        try await connection.execute(
            """
            UPDATE webhook_deliveries SET
                attempts = attempts + 1,
                last_error = $2,
                status = CASE WHEN $3::bigint IS NULL THEN 'failed' ELSE 'pending' END,
                next_attempt_at = CASE WHEN $3::bigint IS NULL THEN next_attempt_at ELSE now() + $3::bigint * interval '1 millisecond' END
            WHERE id = $1::uuid
            """,
            [id, String(error.prefix(1000)), milliseconds]
        )
    }
}
