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

    /// The order's owner, the credits it granted and whether they were taken back already, with
    /// the row locked until the transaction ends (so two refunds of one order run one after the
    /// other); nil when the order is not recorded (yet).
    static func lockForRefund(_ id: Int64, on connection: PostgresConnection) async throws -> GrantedCredits? {
        guard let row = try await connection.query(
            "SELECT user_id::text AS user_id, credits, refunded_at IS NOT NULL AS refunded FROM orders WHERE ls_order_id = $1 FOR UPDATE",
            [id]
        ).first else { return nil }
        return GrantedCredits(
            userID: try row.decode(String?.self, "user_id").flatMap(UserID.init), credits: try row.decode(Int64.self, "credits"),
            refunded: try row.decode(Bool.self, "refunded")
        )
    }

    static func markRefunded(_ id: Int64, status: String, on connection: PostgresConnection) async throws {
        try await connection.execute(
            "UPDATE orders SET status = $2, refunded_at = coalesce(refunded_at, now()) WHERE ls_order_id = $1", [id, status]
        )
    }
}

/// What an order or invoice granted, as a refund finds it.
struct GrantedCredits: Sendable {
    var userID: UserID?
    var credits: Int64
    /// Its credits were taken back already.
    var refunded: Bool
}
