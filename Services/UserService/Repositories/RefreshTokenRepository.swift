import Core
import Foundation

/// Refresh tokens, stored only as SHA-256 hex, grouped in families (one per login).
protocol RefreshTokenRepository: Sendable {
    /// Stores a new token of `familyID`.
    func insert(tokenHash: String, userID: UserID, familyID: String, expiresAt: Date) async throws
    /// Marks the presented token used and stores `newHash` in its family, atomically.
    ///
    /// A presented token that was already used means it leaked or was replayed: the whole family
    /// is revoked (and stays revoked) and the outcome is `.reused`.
    func rotate(presentedHash: String, newHash: String, newExpiresAt: Date) async throws -> RefreshOutcome
    /// Revokes every token of the presented token's family; false when the token is unknown.
    func revokeFamily(ofTokenHash tokenHash: String) async throws -> Bool

    /// Revokes every refresh token of `userID` (a password change); returns how many were live.
    func revokeAll(userID: UserID) async throws -> Int
}
