import Core
import Foundation

/// Credit accounts, holds and the ledger; a balance never goes negative (what a take-back cannot
/// cover becomes debt, repaid first by whatever is credited later).
protocol CreditLedgerRepository: Sendable {
    /// The user's balance and debt; nil when the user has no account.
    func account(userID: UserID) async throws -> CreditAccount?
    /// Ledger entries, newest first, with ids below `before` when given.
    func entries(userID: UserID, before: Int64?, limit: Int) async throws -> [LedgerEntry]
    /// Takes `amount` off the balance for `jobID`; idempotent by job id. Refused while in debt.
    func hold(userID: UserID, jobID: JobID, amount: Int64) async throws -> HoldOutcome
    /// Makes the hold of `jobID` final; idempotent.
    func capture(jobID: JobID) async throws -> SettleOutcome
    /// Gives the held amount of `jobID` back (repaying debt first); idempotent.
    func release(jobID: JobID) async throws -> SettleOutcome

    /// Jobs whose hold is still `held` and older than `before`, oldest first.
    func heldSince(before: Date, limit: Int) async throws -> [JobID]
    /// Adds `amount`, repaying debt first; idempotent by `reference`.
    func grant(userID: UserID, amount: Int64, reason: String, reference: String) async throws -> GrantOutcome
    /// Takes `amount` back (a refund): off the balance as far as it goes, the rest becomes debt;
    /// idempotent by `reference`.
    func debit(userID: UserID, amount: Int64, reason: String, reference: String) async throws -> DebitOutcome
}
