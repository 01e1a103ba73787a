import Core
import Foundation
import PostgresClient

struct PostgresAdminRepository: AdminRepository {
    let pool: PostgresPool

    func findUsers(matching query: String, limit: Int) async throws -> [AdminUserRecord] {
        // The pattern is a parameter; LIKE's own wildcards in the query are escaped.
        let escaped = query.lowercased().replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_")
        return try await pool.query(
            AdminUserRecord.select + " WHERE u.email LIKE $1 OR lower(u.display_name) LIKE $1 ORDER BY u.created_at DESC, u.id LIMIT $2",
            "%\(escaped)%", limit
        ).map(AdminUserRecord.init(row:))
    }

    func user(id: UserID) async throws -> AdminUserRecord? {
        try await pool.query(AdminUserRecord.select + " WHERE u.id = $1", id.uuid).first.map(AdminUserRecord.init(row:))
    }

    func setSuspended(id: UserID, _ suspended: Bool) async throws -> (before: AdminUserRecord, after: AdminUserRecord)? {
        try await pool.transaction { connection -> (before: AdminUserRecord, after: AdminUserRecord)? in
            guard let beforeRow = try await connection.query(AdminUserRecord.select + " WHERE u.id = $1 FOR UPDATE OF u", id.uuid).first else {
                return nil
            }
            let before = try AdminUserRecord(row: beforeRow)
            _ = try await connection.execute(
                suspended
                    ? "UPDATE users SET suspended_at = coalesce(suspended_at, now()), updated_at = now() WHERE id = $1"
                    : "UPDATE users SET suspended_at = NULL, updated_at = now() WHERE id = $1",
                id.uuid)
            guard let afterRow = try await connection.query(AdminUserRecord.select + " WHERE u.id = $1", id.uuid).first else { return nil }
            return (before, try AdminUserRecord(row: afterRow))
        }
    }

    func isSuspended(id: UserID) async throws -> Bool {
        try await pool.query("SELECT 1 FROM users WHERE id = $1 AND suspended_at IS NOT NULL", id.uuid).first != nil
    }

    func suspendedUsers() async throws -> [UserID] {
        try await pool.query("SELECT id FROM users WHERE suspended_at IS NOT NULL").map { UserID(uuid: try $0.decode(UUID.self, "id")) }
    }

    func audit(_ entry: AdminAuditEntry) async throws {
        try await pool.execute(
            "INSERT INTO admin_audit (admin_id, action, target_user_id, reason, before, after) VALUES ($1, $2, $3, $4, $5, $6)",
            entry.adminID.uuid, entry.action, entry.targetUserID?.uuid, entry.reason, entry.before, entry.after)
    }

    func auditEntries(target: UserID?, before: Int64?, limit: Int) async throws -> [AdminAuditEntry] {
        let rows = try await pool.query(
            """
            SELECT id, admin_id, action, target_user_id, reason, before, after, created_at FROM admin_audit
            WHERE ($1::uuid IS NULL OR target_user_id = $1::uuid) AND ($2::bigint IS NULL OR id < $2::bigint)
            ORDER BY id DESC LIMIT $3
            """,
            target?.uuid, before, limit
        )
        return try rows.map(AdminAuditEntry.init(row:))
    }
}
