import Core
import Foundation

/// Users and their credentials.
protocol UserRepository: Sendable {
    /// Creates the user, its credit account and the signup grant of `signupCredits`, all or nothing;
    /// nil when the email is taken.
    func create(_ user: NewUser, signupCredits: Int64) async throws -> UserRecord?
    /// The user with this (normalised) email and its password hash.
    func credentials(email: String) async throws -> (user: UserRecord, passwordHash: String)?
    /// The user with this id.
    func find(id: UserID) async throws -> UserRecord?
    /// Replaces the stored password hash (after a login with outdated hash parameters).
    func updatePasswordHash(id: UserID, passwordHash: String) async throws
    /// Sets the plan from a `plan.changed` event unless a change at `changedAt` or later was applied
    /// already; false when nothing changed (stale, repeated, or no such user).
    func applyPlanChange(id: UserID, plan: Plan, changedAt: Date) async throws -> Bool
}
