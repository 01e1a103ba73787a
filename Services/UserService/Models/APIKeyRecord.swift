import Core
import Foundation
import PostgresClient

/// An API key as lists show it: never the secret, only its first characters.
struct APIKeyRecord: Sendable, Equatable {
    /// What a key may do: `read` (GET routes), `generate` (submit and cancel generations).
    enum Scope: String, Sendable, CaseIterable {
        case read, generate
    }

    var id: UUID
    var userID: UserID
    var name: String
    /// `pvk_` and the first 8 characters of the secret.
    var prefix: String
    var scopes: [Scope]
    var createdAt: Date
    var lastUsedAt: Date?

    static let columns = "id, user_id, name, prefix, scopes, created_at, last_used_at"

    init(id: UUID, userID: UserID, name: String, prefix: String, scopes: [Scope], createdAt: Date, lastUsedAt: Date?) {
        self.id = id
        self.userID = userID
        self.name = name
        self.prefix = prefix
        self.scopes = scopes
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
    }

    init(row: PostgresRow) throws {
        id = try row.decode(UUID.self, "id")
        userID = UserID(uuid: try row.decode(UUID.self, "user_id"))
        name = try row.decode(String.self, "name")
        prefix = try row.decode(String.self, "prefix")
        scopes = try row.decode(String.self, "scopes").split(separator: ",").compactMap { Scope(rawValue: String($0)) }
        createdAt = try row.decode(Date.self, "created_at")
        lastUsedAt = try row.decode(Date?.self, "last_used_at")
    }
}
