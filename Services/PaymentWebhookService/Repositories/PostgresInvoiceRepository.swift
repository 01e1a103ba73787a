import Core
import PostgresClient

/// Paid subscription invoices and the credits each granted, written inside the processor's claim
/// transaction together with the grant, so a refund later takes back exactly that.
enum PostgresInvoiceRepository {
    /// Records what `invoice` granted once; a repeat changes nothing.
    static func record(invoice: Int64, subscription: Int64, user: UserID, credits: Int64, on connection: PostgresConnection) async throws {
        try await connection.execute(
            """
            INSERT INTO invoices (ls_invoice_id, ls_subscription_id, user_id, credits) VALUES ($1, $2, $3::uuid, $4)
            ON CONFLICT (ls_invoice_id) DO NOTHING
            """,
            [invoice, subscription, user.description, credits]
        )
    }

    /// Like `PostgresOrderRepository.lockForRefund`, for an invoice.
    static func lockForRefund(_ id: Int64, on connection: PostgresConnection) async throws -> GrantedCredits? {
        guard let row = try await connection.query(
            "SELECT user_id::text AS user_id, credits, refunded_at IS NOT NULL AS refunded FROM invoices WHERE ls_invoice_id = $1 FOR UPDATE",
            [id]
        ).first else { return nil }
        return GrantedCredits(
            userID: UserID(try row.decode(String.self, "user_id")), credits: try row.decode(Int64.self, "credits"),
            refunded: try row.decode(Bool.self, "refunded")
        )
    }

    static func markRefunded(_ id: Int64, on connection: PostgresConnection) async throws {
        try await connection.execute("UPDATE invoices SET refunded_at = coalesce(refunded_at, now()) WHERE ls_invoice_id = $1", [id])
    }
}
