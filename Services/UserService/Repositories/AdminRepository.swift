import Core
import Foundation

/// What admins read and change about users, and the audit log of it.
protocol AdminRepository: Sendable {
    /// Users whose email or display name contains `query` (all when empty), newest first.
    func findUsers(matching query: String, limit: Int) async throws -> [AdminUserRecord]

    /// One user with their suspension.
    func user(id: UserID) async throws -> AdminUserRecord?

    /// Suspends (`true`) or restores the user; the record before and after, nil when there is no such user.
    func setSuspended(id: UserID, _ suspended: Bool) async throws -> (before: AdminUserRecord, after: AdminUserRecord)?

    /// Whether the user is suspended (false for an unknown user).
    func isSuspended(id: UserID) async throws -> Bool

    /// Every suspended user (for republishing the suspension list).
    func suspendedUsers() async throws -> [UserID]

    /// Appends one row to the audit log.
    func audit(_ entry: AdminAuditEntry) async throws

    /// The newest audit rows (older than the row `before` when given), about `target` when given.
    func auditEntries(target: UserID?, before: Int64?, limit: Int) async throws -> [AdminAuditEntry]
}
