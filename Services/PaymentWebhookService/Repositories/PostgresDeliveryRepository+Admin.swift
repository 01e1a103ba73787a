import Foundation
import PostgresClient
import ServiceKit

extension PostgresDeliveryRepository {
    func list(status: DeliveryStatus?, after cursor: PageCursor?, limit: Int) async throws -> [DeliverySummary] {
        try await pool.query(
            """
            SELECT id, event_name, status, test_mode, attempts, last_error, received_at, next_attempt_at, processed_at
            FROM webhook_deliveries
            WHERE ($1::text IS NULL OR status = $1::text)
              AND ($2::timestamptz IS NULL OR (received_at, id) < ($2::timestamptz, $3::uuid))
            ORDER BY received_at DESC, id DESC
            LIMIT $4
            """,
            [status?.rawValue, cursor?.time, cursor?.id, limit]
        ).map { row in
            DeliverySummary(
                id: try row.decode(UUID.self, "id"), eventName: try row.decode(String.self, "event_name"),
                status: DeliveryStatus(rawValue: try row.decode(String.self, "status")) ?? .failed,
                testMode: try row.decode(Bool.self, "test_mode"), attempts: try row.decode(Int.self, "attempts"),
                lastError: try row.decode(String?.self, "last_error"), receivedAt: try row.decode(Date.self, "received_at"),
                nextAttemptAt: try row.decode(Date.self, "next_attempt_at"), processedAt: try row.decode(Date?.self, "processed_at")
            )
        }
    }

    func replay(_ id: UUID, allowTestMode: Bool) async throws -> ReplayOutcome {
        let updated = try await pool.execute(
            """
            UPDATE webhook_deliveries
            SET status = 'pending', next_attempt_at = now(), attempts = 0, processed_at = NULL
            WHERE id = $1::uuid AND status IN ('failed', 'dead', 'ignored', 'processed') AND ($2::boolean OR NOT test_mode)
            """,
            [id, allowTestMode]
        )
        if updated == 1 { return .replayed }
        // Only to say why nothing changed; the update above is the decision.
        guard let row = try await pool.query("SELECT status, test_mode FROM webhook_deliveries WHERE id = $1::uuid", [id]).first else {
            return .notFound
        }
        if try row.decode(String.self, "status") == DeliveryStatus.pending.rawValue { return .pending }
        return try row.decode(Bool.self, "test_mode") ? .testModeRefused : .pending
    }
}
