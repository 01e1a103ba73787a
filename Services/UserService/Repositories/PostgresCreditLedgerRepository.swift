import Core
import Foundation
import PostgresClient

/// `CreditLedgerRepository` on `credit_accounts`, `credit_holds` and `credit_entries`.
///
/// Every change is one transaction of conditional statements: the unique keys make repeats
/// no-ops, and `UPDATE ... WHERE balance >= amount` lets concurrent holds queue on the account
/// row, each seeing the balance the previous one left.
struct PostgresCreditLedgerRepository: CreditLedgerRepository {
    let pool: PostgresPool

    func balance(userID: UserID) async throws -> Int64? {
        let rows = try await pool.query("SELECT balance FROM credit_accounts WHERE user_id = $1", userID.uuid)
        return try rows.first?.decode(Int64.self, "balance")
    }

    func entries(userID: UserID, before: Int64?, limit: Int) async throws -> [LedgerEntry] {
        let rows = try await pool.query(
            """
            SELECT \(LedgerEntry.columns) FROM credit_entries
            WHERE user_id = $1 AND ($2::bigint IS NULL OR id < $2::bigint)
            ORDER BY id DESC LIMIT $3
            """,
            userID.uuid, before, limit)
        return try rows.map(LedgerEntry.init(row:))
    }

    func hold(userID: UserID, jobID: JobID, amount: Int64) async throws -> HoldOutcome {
        do {
            return try await pool.transaction { connection -> HoldOutcome in
                // A concurrent call with the same job id waits here on the key until this one ends.
                let inserted = try await connection.query(
                    """
                    INSERT INTO credit_holds (job_id, hold_id, user_id, amount) VALUES ($1, $2, $3, $4)
                    ON CONFLICT (job_id) DO NOTHING
                    RETURNING hold_id::text AS hold_id
                    """,
                    jobID.uuid, UUID(), userID.uuid, amount)
                guard let holdRow = inserted.first else {
                    return try await existingHold(jobID: jobID, userID: userID, amount: amount, on: connection)
                }
                let holdID = try holdRow.decode(String.self, "hold_id")
                let debited = try await connection.query(
                    """
                    UPDATE credit_accounts SET balance = balance - $2, updated_at = now()
                    WHERE user_id = $1 AND balance >= $2
                    RETURNING balance
                    """,
                    userID.uuid, amount)
                guard let balanceRow = debited.first else {
                    let balance = try await connection.query(
                        "SELECT balance FROM credit_accounts WHERE user_id = $1", userID.uuid
                    ).first?.decode(Int64.self, "balance") ?? 0
                    // Undo the hold row: the caller learns why, and may try again with the same job id.
                    throw InsufficientCredits(balance: balance)
                }
                try await connection.execute(
                    "INSERT INTO credit_entries (user_id, amount, kind, job_id) VALUES ($1, $2, 'hold', $3)",
                    userID.uuid, -amount, jobID.uuid)
                return .held(holdID: holdID, balance: try balanceRow.decode(Int64.self, "balance"))
            }
        } catch let shortfall as InsufficientCredits {
            return .insufficient(balance: shortfall.balance)
        } catch let error as PostgresError where error.code == .foreignKeyViolation {
            return .unknownUser
        }
    }

    private func existingHold(jobID: JobID, userID: UserID, amount: Int64, on connection: PostgresConnection) async throws -> HoldOutcome {
        let rows = try await connection.query(
            """
            SELECT h.hold_id::text AS hold_id, h.user_id, h.amount, a.balance
            FROM credit_holds h JOIN credit_accounts a ON a.user_id = h.user_id
            WHERE h.job_id = $1
            """,
            jobID.uuid)
        guard let row = rows.first else { throw PostgresError(.other("P0002"), message: "hold vanished during the call") }
        guard try row.decode(UUID.self, "user_id") == userID.uuid, try row.decode(Int64.self, "amount") == amount else {
            return .mismatch
        }
        return .held(holdID: try row.decode(String.self, "hold_id"), balance: try row.decode(Int64.self, "balance"))
    }

    func capture(jobID: JobID) async throws -> SettleOutcome {
        try await settle(jobID: jobID, to: "captured", entryKind: "capture", refund: false)
    }

    func release(jobID: JobID) async throws -> SettleOutcome {
        try await settle(jobID: jobID, to: "released", entryKind: "release", refund: true)
    }

    /// Moves a `held` hold to `status` once; a repeat reports the state it is already in.
    private func settle(jobID: JobID, to status: String, entryKind: String, refund: Bool) async throws -> SettleOutcome {
        try await pool.transaction { connection -> SettleOutcome in
            let settled = try await connection.query(
                """
                UPDATE credit_holds SET status = $2, settled_at = now()
                WHERE job_id = $1 AND status = 'held'
                RETURNING user_id, amount
                """,
                jobID.uuid, status)
            guard let row = settled.first else {
                let current = try await connection.query(
                    """
                    SELECT h.status, a.balance FROM credit_holds h JOIN credit_accounts a ON a.user_id = h.user_id
                    WHERE h.job_id = $1
                    """,
                    jobID.uuid)
                guard let current = current.first else { return .unknownJob }
                let currentStatus = try current.decode(String.self, "status")
                guard currentStatus == status else { return .alreadySettled(status: currentStatus) }
                return .settled(status: status, balance: try current.decode(Int64.self, "balance"))
            }
            let userID = try row.decode(UUID.self, "user_id")
            let amount = try row.decode(Int64.self, "amount")
            let change = refund ? amount : 0
            let balance = try await connection.query(
                """
                UPDATE credit_accounts SET balance = balance + $2, updated_at = now()
                WHERE user_id = $1 RETURNING balance
                """,
                userID, change
            ).first?.decode(Int64.self, "balance") ?? 0
            try await connection.execute(
                "INSERT INTO credit_entries (user_id, amount, kind, job_id) VALUES ($1, $2, $3, $4)",
                userID, change, entryKind, jobID.uuid)
            return .settled(status: status, balance: balance)
        }
    }

    func grant(userID: UserID, amount: Int64, reason: String, reference: String) async throws -> GrantOutcome {
        do {
            return try await pool.transaction { connection -> GrantOutcome in
                let inserted = try await connection.query(
                    """
                    INSERT INTO credit_entries (user_id, amount, kind, reason, reference)
                    VALUES ($1, $2, 'grant', $3, $4)
                    ON CONFLICT (reference) WHERE kind = 'grant' DO NOTHING
                    RETURNING id
                    """,
                    userID.uuid, amount, reason, reference)
                if inserted.isEmpty {
                    let rows = try await connection.query(
                        """
                        SELECT e.user_id, e.amount, a.balance
                        FROM credit_entries e JOIN credit_accounts a ON a.user_id = e.user_id
                        WHERE e.kind = 'grant' AND e.reference = $1
                        """,
                        reference)
                    guard let row = rows.first, try row.decode(UUID.self, "user_id") == userID.uuid,
                        try row.decode(Int64.self, "amount") == amount
                    else { return .mismatch }
                    return .granted(balance: try row.decode(Int64.self, "balance"))
                }
                let balance = try await connection.query(
                    """
                    UPDATE credit_accounts SET balance = balance + $2, updated_at = now()
                    WHERE user_id = $1 RETURNING balance
                    """,
                    userID.uuid, amount
                ).first?.decode(Int64.self, "balance")
                guard let balance else { return .unknownUser }
                return .granted(balance: balance)
            }
        } catch let error as PostgresError where error.code == .foreignKeyViolation {
            return .unknownUser
        }
    }
}

/// Thrown inside the hold transaction to roll it back when the balance is too low.
private struct InsufficientCredits: Error {
    let balance: Int64
}
