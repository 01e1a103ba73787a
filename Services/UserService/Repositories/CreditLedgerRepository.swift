import Core

/// Credit accounts, holds and the ledger; a balance never goes negative.
protocol CreditLedgerRepository: Sendable {
    /// The user's balance; nil when the user has no account.
    func balance(userID: UserID) async throws -> Int64?
    /// Ledger entries, newest first, with ids below `before` when given.
    func entries(userID: UserID, before: Int64?, limit: Int) async throws -> [LedgerEntry]
    /// Takes `amount` off the balance for `jobID`; idempotent by job id.
    func hold(userID: UserID, jobID: JobID, amount: Int64) async throws -> HoldOutcome
    /// Makes the hold of `jobID` final; idempotent.
    func capture(jobID: JobID) async throws -> SettleOutcome
    /// Gives the held amount of `jobID` back; idempotent.
    func release(jobID: JobID) async throws -> SettleOutcome
    /// Adds `amount` to the balance; idempotent by `reference`.
    func grant(userID: UserID, amount: Int64, reason: String, reference: String) async throws -> GrantOutcome
}
