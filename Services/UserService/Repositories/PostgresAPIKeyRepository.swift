import Core
import Foundation
import PostgresClient

struct PostgresAPIKeyRepository: APIKeyRepository {
    let pool: PostgresPool

    func create(userID: UserID, name: String, prefix: String, keyHash: String, scopes: [APIKeyRecord.Scope]) async throws -> APIKeyRecord {
        let rows = try await pool.query(
            """
            INSERT INTO api_keys (id, user_id, name, prefix, key_hash, scopes) VALUES ($1, $2, $3, $4, $5, $6)
            RETURNING \(APIKeyRecord.columns)
            """,
            UUID(), userID.uuid, name, prefix, keyHash, scopes.map(\.rawValue).joined(separator: ","))
        guard let row = rows.first else { throw PostgresError(.other("P0002"), message: "inserted API key not found") }
        return try APIKeyRecord(row: row)
    }

    func list(userID: UserID) async throws -> [APIKeyRecord] {
        try await pool.query(
            "SELECT \(APIKeyRecord.columns) FROM api_keys WHERE user_id = $1 AND revoked_at IS NULL ORDER BY created_at DESC, id", userID.uuid
        ).map(APIKeyRecord.init(row:))
    }

    func revoke(id: UUID, userID: UserID) async throws -> Bool {
        try await pool.execute(
            "UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL", id, userID.uuid) > 0
    }

    func use(keyHash: String) async throws -> (key: APIKeyRecord, owner: UserRecord)? {
        let rows = try await pool.query(
            """
            WITH used AS (
                UPDATE api_keys SET last_used_at = now() WHERE key_hash = $1 AND revoked_at IS NULL
                RETURNING \(APIKeyRecord.columns)
            )
            SELECT used.id, used.user_id, used.name, used.prefix, used.scopes, used.created_at, used.last_used_at,
                   u.email, u.display_name, array_to_json(u.roles)::text AS roles, u.plan
            FROM used JOIN users u ON u.id = used.user_id AND u.suspended_at IS NULL
            """,
            keyHash)
        guard let row = rows.first else { return nil }
        let key = try APIKeyRecord(row: row)
        let owner = UserRecord(
            id: key.userID, email: try row.decode(String.self, "email"), displayName: try row.decode(String.self, "display_name"),
            roles: (try? JSONDecoder().decode([String].self, from: Data(try row.decode(String.self, "roles").utf8))) ?? [],
            plan: Plan(rawValue: try row.decode(String.self, "plan")) ?? .free
        )
        return (key, owner)
    }
}
