import Core
import Foundation
import PostgresClient

/// A user as admins see them: the record plus suspension and credits.
struct AdminUserRecord: Sendable, Equatable, Codable {
    var id: String
    var email: String
    var displayName: String
    var roles: [String]
    var plan: String
    var suspendedAt: Date?
    /// Set for a deleted (anonymised) account.
    var deletedAt: Date?
    var balance: Int64
    var debt: Int64

    static let select = """
        SELECT u.id, u.email, u.display_name, array_to_json(u.roles)::text AS roles, u.plan, u.suspended_at, u.deleted_at,
               coalesce(a.balance, 0) AS balance, coalesce(a.debt, 0) AS debt
        FROM users u LEFT JOIN credit_accounts a ON a.user_id = u.id
        """

    enum CodingKeys: String, CodingKey {
        case id, email, roles, plan, balance, debt
        case displayName = "display_name"
        case suspendedAt = "suspended_at"
        case deletedAt = "deleted_at"
    }

    init(row: PostgresRow) throws {
        id = try row.decode(UUID.self, "id").uuidString.lowercased()
        email = try row.decode(String.self, "email")
        displayName = try row.decode(String.self, "display_name")
        roles = (try? JSONDecoder().decode([String].self, from: Data(try row.decode(String.self, "roles").utf8))) ?? []
        plan = try row.decode(String.self, "plan")
        suspendedAt = try row.decode(Date?.self, "suspended_at")
        deletedAt = try row.decode(Date?.self, "deleted_at")
        balance = try row.decode(Int64.self, "balance")
        debt = try row.decode(Int64.self, "debt")
    }
}

/// One admin action: who, what, to whom, why, when, and the state before and after (JSON text).
struct AdminAuditEntry: Sendable, Equatable, Encodable {
    var id: Int64 = 0
    var adminID: UserID
    var action: String
    var targetUserID: UserID?
    var reason: String?
    var before: String?
    var after: String?
    var createdAt = Date()

    enum CodingKeys: String, CodingKey {
        case id, action, reason, before, after
        case adminID = "admin_id"
        case targetUserID = "target_user_id"
        case createdAt = "created_at"
    }

    init(adminID: UserID, action: String, targetUserID: UserID?, reason: String?, before: String?, after: String?) {
        self.adminID = adminID
        self.action = action
        self.targetUserID = targetUserID
        self.reason = reason
        self.before = before
        self.after = after
    }

    init(row: PostgresRow) throws {
        id = try row.decode(Int64.self, "id")
        adminID = UserID(uuid: try row.decode(UUID.self, "admin_id"))
        action = try row.decode(String.self, "action")
        targetUserID = try row.decode(UUID?.self, "target_user_id").map { UserID(uuid: $0) }
        reason = try row.decode(String?.self, "reason")
        before = try row.decode(String?.self, "before")
        after = try row.decode(String?.self, "after")
        createdAt = try row.decode(Date.self, "created_at")
    }
}
