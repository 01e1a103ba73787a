import Core
import Foundation
import PostgresClient

/// Grants and take-backs: what payments add and, on a refund, take away again.
extension PostgresCreditLedgerRepository {
    func grant(userID: UserID, amount: Int64, reason: String, reference: String) async throws -> GrantOutcome {
        do {
            return try await pool.transaction { connection -> GrantOutcome in
                // A concurrent call with the same reference waits here on the unique key until this one ends.
                let inserted = try await connection.query(
                    """
                    INSERT INTO credit_entries (user_id, amount, kind, reason, reference)
                    VALUES ($1, $2, 'grant', $3, $4)
                    ON CONFLICT (reference) WHERE kind = 'grant' DO NOTHING
                    RETURNING id
                    """,
                    userID.uuid, amount, reason, reference)
                guard let entryID = try inserted.first?.decode(Int64.self, "id") else {
                    return try await Self.repeated(kind: "grant", reference: reference, userID: userID, amount: amount, on: connection)
                        .map { .granted($0) } ?? .mismatch
                }
                let credited = try await Self.credit(userID, amount, on: connection)
                if credited.repaid > 0 {
                    try await connection.execute("UPDATE credit_entries SET debt_change = $2 WHERE id = $1", entryID, -credited.repaid)
                }
                return .granted(credited.account)
            }
        } catch let error as PostgresError where error.code == .foreignKeyViolation {
            return .unknownUser
        }
    }

    func debit(userID: UserID, amount: Int64, reason: String, reference: String) async throws -> DebitOutcome {
        do {
            return try await pool.transaction { connection -> DebitOutcome in
                let inserted = try await connection.query(
                    """
                    INSERT INTO credit_entries (user_id, amount, kind, reason, reference)
                    VALUES ($1, $2, 'debit', $3, $4)
                    ON CONFLICT (reference) WHERE kind = 'debit' DO NOTHING
                    RETURNING id
                    """,
                    userID.uuid, -amount, reason, reference)
                guard let entryID = try inserted.first?.decode(Int64.self, "id") else {
                    return try await Self.repeated(kind: "debit", reference: reference, userID: userID, amount: -amount, on: connection)
                        .map { .debited($0, shortfall: nil) } ?? .mismatch
                }
                guard let row = try await connection.query(
                    "SELECT balance, debt FROM credit_accounts WHERE user_id = $1 FOR NO KEY UPDATE", userID.uuid
                ).first else { return .unknownUser }
                let balance = try row.decode(Int64.self, "balance")
                // What the balance cannot cover becomes debt: the balance never goes below zero.
                let taken = min(balance, amount)
                let shortfall = amount - taken
                let account = try await connection.query(
                    """
                    UPDATE credit_accounts SET balance = balance - $2, debt = debt + $3, updated_at = now()
                    WHERE user_id = $1 RETURNING balance, debt
                    """,
                    userID.uuid, taken, shortfall
                ).first.map { CreditAccount(balance: try $0.decode(Int64.self, "balance"), debt: try $0.decode(Int64.self, "debt")) }
                guard let account else { return .unknownUser }
                if shortfall > 0 {
                    try await connection.execute("UPDATE credit_entries SET debt_change = $2 WHERE id = $1", entryID, shortfall)
                }
                return .debited(account, shortfall: shortfall)
            }
        } catch let error as PostgresError where error.code == .foreignKeyViolation {
            return .unknownUser
        }
    }

    /// The account after an earlier entry of `kind` with `reference`; nil when that entry was for
    /// another user or amount (the reference is taken).
    static func repeated(
        kind: String, reference: String, userID: UserID, amount: Int64, on connection: PostgresConnection
    ) async throws -> CreditAccount? {
        let rows = try await connection.query(
            """
            SELECT e.user_id, e.amount, a.balance, a.debt
            FROM credit_entries e JOIN credit_accounts a ON a.user_id = e.user_id
            WHERE e.kind = $1 AND e.reference = $2
            """,
            kind, reference)
        guard let row = rows.first, try row.decode(UUID.self, "user_id") == userID.uuid, try row.decode(Int64.self, "amount") == amount
        else { return nil }
        return CreditAccount(balance: try row.decode(Int64.self, "balance"), debt: try row.decode(Int64.self, "debt"))
    }

    /// Adds `amount` to the account, repaying debt first; returns the account after and how much
    /// went to the debt. The caller records the ledger entry.
    static func credit(_ userID: UserID, _ amount: Int64, on connection: PostgresConnection) async throws -> (account: CreditAccount, repaid: Int64) {
        // The row lock orders this against concurrent debits, holds and grants of the same account.
        // NO KEY UPDATE, not UPDATE: the ledger entry inserted before holds a KEY SHARE lock on this
        // row (its foreign key), and two calls upgrading to FOR UPDATE would deadlock.
        guard let locked = try await connection.query(
            "SELECT debt FROM credit_accounts WHERE user_id = $1 FOR NO KEY UPDATE", userID.uuid
        ).first else {
            throw PostgresError(.foreignKeyViolation, message: "no credit account")
        }
        let repaid = min(try locked.decode(Int64.self, "debt"), amount)
        let row = try await connection.query(
            """
            UPDATE credit_accounts SET debt = debt - $3, balance = balance + $2 - $3, updated_at = now()
            WHERE user_id = $1 RETURNING balance, debt
            """,
            userID.uuid, amount, repaid
        ).first
        guard let row else { throw PostgresError(.foreignKeyViolation, message: "no credit account") }
        return (CreditAccount(balance: try row.decode(Int64.self, "balance"), debt: try row.decode(Int64.self, "debt")), repaid)
    }
}
