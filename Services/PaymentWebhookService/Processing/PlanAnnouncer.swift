import Core
import Foundation
import PostgresClient

/// Tells the rest of the suite when a user's effective plan changes: a `plan.changed` envelope
/// (`PlanChanged`) in the outbox, written in the transaction that changed the subscription, and
/// relayed to `stream` by `OutboxRelay`.
///
/// The plan last announced per user is kept in `user_plans`; its row is locked while the plan is
/// recomputed from all of the user's subscriptions, so concurrent events of two subscriptions of
/// one user see each other's effect and announce in commit order. `changed_at` grows strictly per
/// user (millisecond steps, the wire's precision), and consumers ignore a change not newer than
/// the one they applied.
struct PlanAnnouncer: Sendable {
    /// `pingvas:events:plan` in every deployment; tests pass their own.
    let stream: String

    /// Recomputes `user`'s plan and, when it differs from the last announced one, records it and
    /// writes the event. Returns the new plan, or nil when nothing changed.
    func announce(user: UserID, source: String, on connection: PostgresConnection, now: Date = Date()) async throws -> Plan? {
        try await connection.execute(
            "INSERT INTO user_plans (user_id, plan, changed_at) VALUES ($1::uuid, 'free', '-infinity') ON CONFLICT (user_id) DO NOTHING",
            [user.description]
        )
        guard let row = try await connection.query(
            "SELECT plan FROM user_plans WHERE user_id = $1::uuid FOR UPDATE", [user.description]
        ).first else { throw PaymentDataError.corrupt("user_plans") }
        let announced = Plan(rawValue: try row.decode(String.self, "plan")) ?? .free
        // Read after the lock: a concurrent change of another subscription of this user has committed by now.
        let subscriptions = try await connection.query(
            "SELECT \(PostgresSubscriptionRepository.columns) FROM subscriptions WHERE user_id = $1::uuid", [user.description]
        ).map(PostgresSubscriptionRepository.decode)
        let plan = subscriptions.map { $0.effectivePlan(at: now) }.max() ?? .free
        guard plan != announced else { return nil }
        guard let changed = try await connection.query(
            """
            UPDATE user_plans
            SET plan = $2, changed_at = greatest(date_trunc('milliseconds', clock_timestamp()), changed_at + interval '1 millisecond')
            WHERE user_id = $1::uuid RETURNING changed_at
            """,
            [user.description, plan.rawValue]
        ).first else { throw PaymentDataError.corrupt("user_plans") }
        let event = PlanChanged(userID: user, plan: plan, effectiveAt: try changed.decode(Date.self, "changed_at"), sourceRef: source)
        let envelope = String(decoding: try WireCodec.encode(event), as: UTF8.self)
        try await connection.execute("INSERT INTO outbox (stream, envelope) VALUES ($1, $2)", [stream, envelope])
        return plan
    }
}
