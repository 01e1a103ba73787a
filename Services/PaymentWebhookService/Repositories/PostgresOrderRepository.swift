import Core
import PostgresClient

/// A Lemon Squeezy order as `order_created` states it.
struct OrderRecord: Sendable {
    var id: Int64
    var userID: UserID?
    var variantID: Int64?
    var identifier: String?
    var status: String
    var total: Int64?
    /// Credits this order grants (0 for subscription orders).
    var credits: Int64
    var updatedAt: String?
}

/// The orders table, written inside the processor's claim transaction.
enum PostgresOrderRepository {
    /// Records `order` once; a repeat changes nothing. True when it was new.
    static func record(_ order: OrderRecord, on connection: PostgresConnection) async throws -> Bool {
        try await connection.execute(
            """
            INSERT INTO orders (ls_order_id, user_id, variant_id, identifier, status, total, credits, ls_updated_at)
            VALUES ($1, $2::uuid, $3, $4, $5, $6, $7, $8::timestamptz)
            ON CONFLICT (ls_order_id) DO NOTHING
            """,
            [order.id, order.userID?.description, order.variantID, order.identifier, order.status, order.total, order.credits, order.updatedAt]
        ) == 1
    }
}
