import Core
import Foundation
import PostgresClient

/// `RefreshTokenRepository` on the `refresh_tokens` table.
struct PostgresRefreshTokenRepository: RefreshTokenRepository {
    let pool: PostgresPool

    func insert(tokenHash: String, userID: UserID, familyID: String, expiresAt: Date) async throws {
        try await pool.execute(
            "INSERT INTO refresh_tokens (token_hash, user_id, family_id, expires_at) VALUES ($1, $2, $3, $4)",
            tokenHash, userID.uuid, familyID, expiresAt)
    }

    func rotate(presentedHash: String, newHash: String, newExpiresAt: Date) async throws -> RefreshOutcome {
        // The revocation on reuse must commit, so the outcome is returned, never thrown, from the transaction.
        try await pool.transaction { connection -> RefreshOutcome in
            // The conditional update is the whole race: of two requests with one token, exactly one wins.
            let claimed = try await connection.query(
                """
                UPDATE refresh_tokens SET used_at = now(), replaced_by = $2
                WHERE token_hash = $1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > now()
                RETURNING user_id, family_id::text AS family_id
                """,
                presentedHash, newHash)
            if let row = claimed.first {
                let userID = UserID(uuid: try row.decode(UUID.self, "user_id"))
                let familyID = try row.decode(String.self, "family_id")
                try await connection.execute(
                    "INSERT INTO refresh_tokens (token_hash, user_id, family_id, expires_at) VALUES ($1, $2, $3, $4)",
                    newHash, userID.uuid, familyID, newExpiresAt)
                return .rotated(userID: userID, familyID: familyID)
            }
            let existing = try await connection.query(
                """
                SELECT user_id, family_id::text AS family_id, used_at IS NOT NULL AS used
                FROM refresh_tokens WHERE token_hash = $1
                """,
                presentedHash)
            guard let row = existing.first, try row.decode(Bool.self, "used") else { return .invalid }
            let userID = UserID(uuid: try row.decode(UUID.self, "user_id"))
            let familyID = try row.decode(String.self, "family_id")
            try await connection.execute(
                "UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL", familyID)
            return .reused(userID: userID, familyID: familyID)
        }
    }

    func revokeFamily(ofTokenHash tokenHash: String) async throws -> Bool {
        let rows = try await pool.query(
            """
            WITH presented AS (SELECT family_id FROM refresh_tokens WHERE token_hash = $1)
            UPDATE refresh_tokens SET revoked_at = coalesce(revoked_at, now())
            WHERE family_id IN (SELECT family_id FROM presented)
            RETURNING 1
            """,
            tokenHash)
        return !rows.isEmpty
    }

    func revokeAll(userID: UserID) async throws -> Int {
        try await pool.query(
            "UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL RETURNING 1", userID.uuid
        ).count
    }
}
