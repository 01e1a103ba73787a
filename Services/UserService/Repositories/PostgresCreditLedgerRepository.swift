import Core
import Foundation
import PostgresClient

/// `CreditLedgerRepository` on `credit_accounts`, `credit_holds` and `credit_entries`.
///
/// Every change is one transaction of conditional statements: the unique keys make repeats
/// no-ops, and `UPDATE ... WHERE balance >= amount` lets concurrent holds queue on the account
/// row, each seeing the balance the previous one left. While the account has debt, holds are
/// refused and credits that come back (releases, grants) repay the debt first.
struct PostgresCreditLedgerRepository: CreditLedgerRepository {
    let pool: PostgresPool

    func account(userID: UserID) async throws -> CreditAccount? {
        let rows = try await pool.query("SELECT balance, debt FROM credit_accounts WHERE user_id = $1", userID.uuid)
        return try rows.first.map { CreditAccount(balance: try $0.decode(Int64.self, "balance"), debt: try $0.decode(Int64.self, "debt")) }
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
                    WHERE user_id = $1 AND balance >= $2 AND debt = 0
                    RETURNING balance
                    """,
                    userID.uuid, amount)
                guard let balanceRow = debited.first else {
                    let account = try await connection.query("SELECT balance, debt FROM credit_accounts WHERE user_id = $1", userID.uuid).first
                    let balance = try account?.decode(Int64.self, "balance") ?? 0
                    let debt = try account?.decode(Int64.self, "debt") ?? 0
                    // Undo the hold row: the caller learns why, and may try again with the same job id.
                    throw HoldRefused(balance: balance, debt: debt)
                }
                try await connection.execute(
                    "INSERT INTO credit_entries (user_id, amount, kind, job_id) VALUES ($1, $2, 'hold', $3)",
                    userID.uuid, -amount, jobID.uuid)
                return .held(holdID: holdID, balance: try balanceRow.decode(Int64.self, "balance"))
            }
        } catch let refused as HoldRefused {
            return refused.debt > 0 ? .inDebt(debt: refused.debt, balance: refused.balance) : .insufficient(balance: refused.balance)
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

    func heldSince(before: Date, limit: Int) async throws -> [JobID] {
        try await pool.query(
            "SELECT job_id FROM credit_holds WHERE status = 'held' AND created_at < $1 ORDER BY created_at LIMIT $2", before, limit
        ).map { JobID(uuid: try $0.decode(UUID.self, "job_id")) }
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
            let credited = try await Self.credit(UserID(uuid: userID), change, on: connection)
            try await connection.execute(
                "INSERT INTO credit_entries (user_id, amount, kind, job_id, debt_change) VALUES ($1, $2, $3, $4, $5)",
                userID, change, entryKind, jobID.uuid, -credited.repaid)
            return .settled(status: status, balance: credited.account.balance)
        }
    }
}

/// Thrown inside the hold transaction to roll it back when the balance is too low or in debt.
private struct HoldRefused: Error {
    let balance: Int64
    let debt: Int64
}
