import Core
import Foundation

/// Which user a provider's account signs in as.
protocol OAuthIdentityRepository: Sendable {
    /// The user linked to `subject` at `provider`, if any.
    func user(provider: String, subject: String) async throws -> UserID?

    /// Links `subject` at `provider` to `userID` (idempotent: an existing link is kept).
    func link(provider: String, subject: String, userID: UserID, email: String?) async throws
}
