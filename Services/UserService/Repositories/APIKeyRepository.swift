import Core
import Foundation

/// The API keys of users, stored by the SHA-256 of their secret.
protocol APIKeyRepository: Sendable {
    /// Stores a new key; `keyHash` is the SHA-256 hex of the whole secret.
    func create(userID: UserID, name: String, prefix: String, keyHash: String, scopes: [APIKeyRecord.Scope]) async throws -> APIKeyRecord

    /// The user's keys that are not revoked, newest first.
    func list(userID: UserID) async throws -> [APIKeyRecord]

    /// Revokes the user's key `id`; false when the user has no such live key.
    func revoke(id: UUID, userID: UserID) async throws -> Bool

    /// The live key with this hash and its owner, recording the use in `last_used_at`; nil when unknown or revoked.
    func use(keyHash: String) async throws -> (key: APIKeyRecord, owner: UserRecord)?
}
