import Core
import Foundation
import PostgresClient

struct PostgresOAuthIdentityRepository: OAuthIdentityRepository {
    let pool: PostgresPool

    func user(provider: String, subject: String) async throws -> UserID? {
        try await pool.query("SELECT user_id FROM oauth_identities WHERE provider = $1 AND subject = $2", provider, subject)
            .first.map { UserID(uuid: try $0.decode(UUID.self, "user_id")) }
    }

    func link(provider: String, subject: String, userID: UserID, email: String?) async throws {
        try await pool.execute(
            """
            INSERT INTO oauth_identities (provider, subject, user_id, email) VALUES ($1, $2, $3, $4)
            ON CONFLICT (provider, subject) DO NOTHING
            """,
            provider, subject, userID.uuid, email)
    }
}
