import Core
import Foundation
import PostgresClient

/// `SubscriptionRepository` on the service's own schema, plus the statements the processor runs
/// inside its claim transaction.
struct PostgresSubscriptionRepository: SubscriptionRepository {
    let pool: PostgresPool

    static let columns = """
        ls_subscription_id, user_id::text AS user_id, variant_id, plan, status, renews_at, ends_at, trial_ends_at, ls_updated_at
        """

    func subscriptions(of user: UserID) async throws -> [SubscriptionRecord] {
        try await pool.query(
            "SELECT \(Self.columns) FROM subscriptions WHERE user_id = $1::uuid ORDER BY ls_updated_at DESC, ls_subscription_id DESC",
            [user.description]
        ).map(Self.decode)
    }

    static func find(_ id: Int64, on connection: PostgresConnection) async throws -> SubscriptionRecord? {
        try await connection.query("SELECT \(columns) FROM subscriptions WHERE ls_subscription_id = $1", [id]).first.map(decode)
    }

    /// Stores `state` unless the stored state is as new or newer (by Lemon Squeezy's `updated_at`),
    /// so a late, older delivery never undoes a newer one. The owner never changes. True when applied.
    static func apply(_ state: SubscriptionState, on connection: PostgresConnection) async throws -> Bool {
        try await connection.execute(
            """
            INSERT INTO subscriptions (ls_subscription_id, user_id, variant_id, plan, status, renews_at, ends_at, trial_ends_at, ls_updated_at)
            VALUES ($1, $2::uuid, $3, $4, $5, $6::timestamptz, $7::timestamptz, $8::timestamptz, $9::timestamptz)
            ON CONFLICT (ls_subscription_id) DO UPDATE SET
                variant_id = EXCLUDED.variant_id, plan = EXCLUDED.plan, status = EXCLUDED.status,
                renews_at = EXCLUDED.renews_at, ends_at = EXCLUDED.ends_at, trial_ends_at = EXCLUDED.trial_ends_at,
                ls_updated_at = EXCLUDED.ls_updated_at
            WHERE subscriptions.ls_updated_at < EXCLUDED.ls_updated_at
            """,
            [
                state.id, state.userID.description, state.variantID, state.plan.rawValue, state.status,
                state.renewsAt, state.endsAt, state.trialEndsAt, state.updatedAt,
            ]
        ) == 1
    }

    static func decode(_ row: PostgresRow) throws -> SubscriptionRecord {
        guard let userID = UserID(try row.decode(String.self, "user_id")) else { throw PaymentDataError.corrupt("user_id") }
        guard let plan = Plan(rawValue: try row.decode(String.self, "plan")) else { throw PaymentDataError.corrupt("plan") }
        return SubscriptionRecord(
            id: try row.decode(Int64.self, "ls_subscription_id"), userID: userID, variantID: try row.decode(Int64.self, "variant_id"),
            plan: plan, status: try row.decode(String.self, "status"), renewsAt: try row.decode(Date?.self, "renews_at"),
            endsAt: try row.decode(Date?.self, "ends_at"), trialEndsAt: try row.decode(Date?.self, "trial_ends_at"),
            updatedAt: try row.decode(Date.self, "ls_updated_at")
        )
    }
}

enum PaymentDataError: Error, CustomStringConvertible {
    case corrupt(String)
    var description: String {
        switch self {
        case .corrupt(let column): "stored row has an unreadable \(column)"
        }
    }
}
