import Core
import Foundation
import PostgresClient

/// A user as the service reads it back: identity, profile, roles and plan (never the password hash).
struct UserRecord: Sendable, Equatable {
    var id: UserID
    var email: String
    var displayName: String
    var roles: [String]
    var plan: Plan

    /// The columns every user query selects, in the shape `init(row:)` reads.
    static let columns = "id, email, display_name, array_to_json(roles)::text AS roles, plan"

    init(id: UserID, email: String, displayName: String, roles: [String], plan: Plan) {
        self.id = id
        self.email = email
        self.displayName = displayName
        self.roles = roles
        self.plan = plan
    }

    init(row: PostgresRow) throws {
        id = UserID(uuid: try row.decode(UUID.self, "id"))
        email = try row.decode(String.self, "email")
        displayName = try row.decode(String.self, "display_name")
        let rolesJSON = try row.decode(String.self, "roles")
        roles = (try? JSONDecoder().decode([String].self, from: Data(rolesJSON.utf8))) ?? []
        // A plan this build does not know yet is served as free rather than failing the request.
        plan = Plan(rawValue: try row.decode(String.self, "plan")) ?? .free
    }
}
