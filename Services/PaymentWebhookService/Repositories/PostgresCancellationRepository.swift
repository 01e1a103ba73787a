import Core
import Foundation
import PostgresClient

/// The subscriptions of deleted accounts, on their way to being cancelled at Lemon Squeezy.
///
/// A subscription is due once its owner is in `deleted_users` while it still renews (a live
/// status); `claimDue` hands each due one to one caller at a time (the claim pushes `cancel_due_at`
/// past the attempt), and the caller settles it (`sent`) or backs it off (`failed`). One that Lemon
/// Squeezy later reports cancelled or expired is no longer live, so it is no longer due either.
struct PostgresCancellationRepository: Sendable {
    let pool: PostgresPool

    /// The statuses in which Lemon Squeezy still bills, or may again (paused, unpaid).
    static let liveStatuses = "('on_trial', 'active', 'paused', 'past_due', 'unpaid')"

    /// The gauge `pingvas_subscription_cancellations_due`: subscriptions due and not yet settled
    /// (in flight or backing off included), by the same rule `claimDue` hands them out by.
    static let dueCountSQL = """
        SELECT count(*)::float8 AS value FROM subscriptions
        WHERE cancel_due_at IS NOT NULL AND cancel_sent_at IS NULL AND status IN \(liveStatuses)
        """

    /// A claimed subscription: its id, owner and how many attempts (this one included) it has had.
    struct Due: Sendable, Equatable {
        var subscriptionID: Int64
        var userID: String
        var attempts: Int
    }

    /// Records that `user` was deleted (once; a repeated event changes nothing) and makes each of
    /// their live subscriptions due now. Returns how many became due.
    @discardableResult
    func recordDeletion(of user: UserID, deletedAt: Date) async throws -> Int {
        try await pool.execute(
            """
            WITH recorded AS (
                INSERT INTO deleted_users (user_id, deleted_at) VALUES ($1::uuid, $2) ON CONFLICT (user_id) DO NOTHING
            )
            UPDATE subscriptions SET cancel_due_at = now()
            WHERE user_id = $1::uuid AND status IN \(Self.liveStatuses) AND cancel_due_at IS NULL AND cancel_sent_at IS NULL
            """,
            [user.description, deletedAt]
        )
    }

    /// Makes subscription `id` due when its owner is already deleted and it is live, after an event
    /// changed it: a subscription whose first event arrives after its owner's deletion, or one that
    /// Lemon Squeezy reports live again (resumed in its portal) in a state newer than the
    /// cancellation it accepted. Runs in the event's transaction.
    static func markIfOwnerDeleted(_ id: Int64, on connection: PostgresConnection) async throws -> Bool {
        try await connection.execute(
            """
            UPDATE subscriptions s SET cancel_due_at = now(), cancel_sent_at = NULL, cancel_attempts = 0, cancel_error = NULL
            WHERE s.ls_subscription_id = $1 AND s.status IN \(liveStatuses)
              AND ((s.cancel_due_at IS NULL AND s.cancel_sent_at IS NULL) OR s.cancel_sent_at < s.ls_updated_at)
              AND EXISTS (SELECT 1 FROM deleted_users d WHERE d.user_id = s.user_id)
            """,
            [id]
        ) == 1
    }

    /// Up to `limit` due subscriptions, each claimed for `lease` (another replica's pass skips it
    /// until then, so an attempt in flight is not repeated, and one a dead replica left is retried).
    func claimDue(limit: Int, lease: Duration) async throws -> [Due] {
        try await pool.query(
            """
            UPDATE subscriptions SET cancel_due_at = now() + make_interval(secs => $2), cancel_attempts = cancel_attempts + 1
            WHERE ls_subscription_id IN (
                SELECT ls_subscription_id FROM subscriptions
                WHERE cancel_due_at <= now() AND cancel_sent_at IS NULL AND status IN \(Self.liveStatuses)
                ORDER BY cancel_due_at LIMIT $1 FOR UPDATE SKIP LOCKED
            )
            RETURNING ls_subscription_id, user_id::text AS user_id, cancel_attempts
            """,
            [limit, lease.inSeconds]
        ).map {
            Due(subscriptionID: try $0.decode(Int64.self, "ls_subscription_id"), userID: try $0.decode(String.self, "user_id"),
                attempts: try $0.decode(Int.self, "cancel_attempts"))
        }
    }

    /// Lemon Squeezy accepted the cancellation (`note` nil) or did not know the subscription.
    func sent(_ id: Int64, note: String?) async throws {
        try await pool.execute(
            "UPDATE subscriptions SET cancel_sent_at = now(), cancel_error = $2 WHERE ls_subscription_id = $1", [id, note]
        )
    }

    /// The attempt failed: the next one is due after `retryIn`.
    func failed(_ id: Int64, error: String, retryIn: Duration) async throws {
        try await pool.execute(
            "UPDATE subscriptions SET cancel_due_at = now() + make_interval(secs => $2), cancel_error = $3 WHERE ls_subscription_id = $1",
            [id, retryIn.inSeconds, error]
        )
    }
}
