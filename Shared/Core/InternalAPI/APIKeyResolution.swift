/// user's answer to `POST /internal/api-keys/resolve`: who an API key acts for and what it may do.
package struct APIKeyResolution: Codable, Sendable, Equatable {
    package var keyID: String
    package var userID: String
    package var roles: [String]
    package var plan: String
    /// `read`, `generate`.
    package var scopes: [String]

    package init(keyID: String, userID: String, roles: [String], plan: String, scopes: [String]) {
        self.keyID = keyID
        self.userID = userID
        self.roles = roles
        self.plan = plan
        self.scopes = scopes
    }

    enum CodingKeys: String, CodingKey {
        case roles, plan, scopes
        case keyID = "key_id"
        case userID = "user_id"
    }
}
