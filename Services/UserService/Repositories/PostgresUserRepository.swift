import Core
import Foundation
import PostgresClient

/// `UserRepository` on the service's PostgreSQL schema (`users`, plus the credit account at signup).
struct PostgresUserRepository: UserRepository {
    let pool: PostgresPool

    func create(_ user: NewUser, signupCredits: Int64) async throws -> UserRecord? {
        let id = UserID()
        return try await pool.transaction { connection -> UserRecord? in
            let inserted = try await connection.query(
                """
                INSERT INTO users (id, email, password_hash, display_name) VALUES ($1, $2, $3, $4)
                ON CONFLICT (email) DO NOTHING
                RETURNING \(UserRecord.columns)
                """,
                id.uuid, user.email, user.passwordHash, user.displayName)
            guard let row = inserted.first else { return nil }
            try await connection.execute(
                "INSERT INTO credit_accounts (user_id, balance) VALUES ($1, $2)", id.uuid, signupCredits)
            if signupCredits > 0 {
                try await connection.execute(
                    """
                    INSERT INTO credit_entries (user_id, amount, kind, reason, reference)
                    VALUES ($1, $2, 'grant', 'signup', $3)
                    """,
                    id.uuid, signupCredits, "signup:\(id)")
            }
            return try UserRecord(row: row)
        }
    }

    func credentials(email: String) async throws -> (user: UserRecord, passwordHash: String)? {
        let rows = try await pool.query(
            "SELECT \(UserRecord.columns), password_hash FROM users WHERE email = $1", email)
        guard let row = rows.first else { return nil }
        return (try UserRecord(row: row), try row.decode(String.self, "password_hash"))
    }

    func find(id: UserID) async throws -> UserRecord? {
        let rows = try await pool.query("SELECT \(UserRecord.columns) FROM users WHERE id = $1", id.uuid)
        return try rows.first.map(UserRecord.init(row:))
    }

    func updatePasswordHash(id: UserID, passwordHash: String) async throws {
        try await pool.execute(
            "UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1", id.uuid, passwordHash)
    }

    func applyPlanChange(id: UserID, plan: Plan, changedAt: Date) async throws -> Bool {
        try await pool.execute(
            """
            UPDATE users SET plan = $2, plan_changed_at = $3, updated_at = now()
            WHERE id = $1 AND (plan_changed_at IS NULL OR plan_changed_at < $3)
            """,
            id.uuid, plan.rawValue, changedAt) == 1
    }
}
