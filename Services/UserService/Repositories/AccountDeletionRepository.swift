import Core
import Foundation
import PostgresClient

/// Account deletion: the user row stays (the credit ledger refers to it, its sums are kept) but is
/// anonymised and locked; every way in (refresh tokens, API keys, social logins) is removed.
protocol AccountDeletionRepository: Sendable {
    /// Anonymises and locks the account, in one transaction; false when there is no such live account.
    func delete(id: UserID) async throws -> Bool
    /// Deleted accounts whose `user.deleted` is not yet on the stream, oldest first.
    func unannounced(limit: Int) async throws -> [(id: UserID, deletedAt: Date)]
    /// Records that `user.deleted` of these accounts is on the stream.
    func markAnnounced(_ ids: [UserID]) async throws
    /// Whether the account has a linked social login (it may then confirm a deletion with its email).
    func hasSocialLogin(id: UserID) async throws -> Bool
}

struct PostgresAccountDeletionRepository: AccountDeletionRepository {
    let pool: PostgresPool

    func delete(id: UserID) async throws -> Bool {
        try await pool.transaction { connection -> Bool in
            // An address that is no one's (`.invalid`), a hash no password matches, no roles, and
            // suspended, so the gateway refuses the access tokens still alive at once.
            let changed = try await connection.execute(
                """
                UPDATE users SET email = 'deleted-' || id::text || '@deleted.invalid', display_name = 'Deleted user',
                    password_hash = '!deleted', roles = '{}', suspended_at = coalesce(suspended_at, now()), deleted_at = now(), updated_at = now()
                WHERE id = $1 AND deleted_at IS NULL
                """,
                id.uuid)
            guard changed > 0 else { return false }
            _ = try await connection.execute("UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL", id.uuid)
            _ = try await connection.execute("UPDATE api_keys SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL", id.uuid)
            _ = try await connection.execute("DELETE FROM oauth_identities WHERE user_id = $1", id.uuid)
            return true
        }
    }

    func unannounced(limit: Int) async throws -> [(id: UserID, deletedAt: Date)] {
        try await pool.query(
            "SELECT id, deleted_at FROM users WHERE deleted_at IS NOT NULL AND deletion_announced_at IS NULL ORDER BY deleted_at LIMIT $1", limit
        ).map { row in (id: UserID(uuid: try row.decode(UUID.self, "id")), deletedAt: try row.decode(Date.self, "deleted_at")) }
    }

    func markAnnounced(_ ids: [UserID]) async throws {
        for id in ids {
            _ = try await pool.execute("UPDATE users SET deletion_announced_at = now() WHERE id = $1 AND deletion_announced_at IS NULL", id.uuid)
        }
    }

    func hasSocialLogin(id: UserID) async throws -> Bool {
        try await pool.query("SELECT 1 FROM oauth_identities WHERE user_id = $1 LIMIT 1", id.uuid).first != nil
    }
}
