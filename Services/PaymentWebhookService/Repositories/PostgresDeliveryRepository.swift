import Core
import Foundation
import PostgresClient

/// `DeliveryRepository` on the service's own schema, plus the statements the processor runs
/// inside its claim transaction.
struct PostgresDeliveryRepository: DeliveryRepository {
    let pool: PostgresPool
    /// The intake's writes: concurrent deliveries share one statement and one commit.
    let batcher: DeliveryBatcher

    init(pool: PostgresPool) {
        self.pool = pool
        batcher = DeliveryBatcher { rows in try await Self.insert(rows, into: pool) }
    }

    func store(_ delivery: NewDelivery) async throws -> Bool {
        // The statement runs in the batcher's task, outside the request's trace: this span is the
        // request's wait for the commit of its batch.
        try await Tracing.withSpan("db INSERT (batched)", kind: .client, attributes: ["db.system": "postgresql"]) { _ in
            try await batcher.store(delivery)
        }
    }

    /// Inserts `rows` (distinct dedupe keys) with one statement, skipping keys already stored;
    /// returns the keys that were new. `received_at` (and `processed_at` of rows stored finished)
    /// is the time each row is inserted, not the statement's start, so the rows of one statement
    /// keep their arrival order for the processor and the admin list.
    static func insert(_ rows: [NewDelivery], into pool: PostgresPool) async throws -> Set<String> {
        var parameters: [any PostgresBindable] = []
        parameters.reserveCapacity(rows.count * 7)
        for row in rows {
            parameters.append(Self.text(of: row.id))
            parameters.append(row.dedupeKey)
            parameters.append(row.eventName)
            parameters.append(row.testMode)
            parameters.append(row.body)
            parameters.append(row.status.rawValue)
            parameters.append(row.lastError)
        }
        let result = try await pool.query(insertStatement(rows: rows.count), parameters)
        var inserted = Set<String>(minimumCapacity: result.count)
        for row in result { inserted.insert(try row.decode(String.self, "dedupe_key")) }
        return inserted
    }

    /// `id` in lowercase 8-4-4-4-12 form, as `UUID`'s own binding sends it, without the
    /// upper-case string and Unicode lower-casing that takes.
    static func text(of id: UUID) -> String {
        let digits: StaticString = "0123456789abcdef"
        return withUnsafeBytes(of: id.uuid) { raw in
            String(unsafeUninitializedCapacity: 36) { buffer in
                var position = 0
                for (index, byte) in raw.enumerated() {
                    if index == 4 || index == 6 || index == 8 || index == 10 {
                        buffer[position] = UInt8(ascii: "-")
                        position += 1
                    }
                    buffer[position] = digits.utf8Start[Int(byte >> 4)]
                    buffer[position + 1] = digits.utf8Start[Int(byte & 0x0F)]
                    position += 2
                }
                return position
            }
        }
    }

    /// The insert of `rows` rows (texts cached per size: each is prepared once per connection).
    static func insertStatement(rows: Int) -> String {
        rows <= insertStatements.count ? insertStatements[rows - 1] : makeInsertStatement(rows: rows)
    }

    private static let insertStatements = (1...64).map(makeInsertStatement(rows:))

    private static func makeInsertStatement(rows: Int) -> String {
        let values = (0..<rows).map { row in
            let p = row * 7
            return "($\(p + 1)::uuid, $\(p + 2)::text, $\(p + 3)::text, $\(p + 4)::boolean, $\(p + 5)::bytea, $\(p + 6)::text, $\(p + 7)::text, "
                + "clock_timestamp(), CASE WHEN $\(p + 6)::text = 'pending' THEN NULL ELSE clock_timestamp() END)"
        }
        return """
            INSERT INTO webhook_deliveries (id, dedupe_key, event_name, test_mode, body, status, last_error, received_at, processed_at)
            VALUES \(values.joined(separator: ", "))
            ON CONFLICT (dedupe_key) DO NOTHING
            RETURNING dedupe_key
            """
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
