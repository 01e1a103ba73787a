import Core

/// What `CreditLedgerRepository.hold` did.
enum HoldOutcome: Sendable, Equatable {
    /// The hold exists (new, or the one an earlier call with the same job id made); `balance` is spendable now.
    case held(holdID: String, balance: Int64)
    /// Nothing was held; the balance is below the amount.
    case insufficient(balance: Int64)
    /// Nothing was held: a refund left the account in debt, and no job starts until it is repaid.
    case inDebt(debt: Int64, balance: Int64)
    /// The user has no credit account.
    case unknownUser
    /// The job id already holds credits for another user or amount.
    case mismatch
}

/// What capturing or releasing a hold did.
enum SettleOutcome: Sendable, Equatable {
    /// The hold is (now, or already was) in the requested state.
    case settled(status: String, balance: Int64)
    /// The hold was already settled the other way.
    case alreadySettled(status: String)
    case unknownJob
}

/// What `CreditLedgerRepository.grant` did.
enum GrantOutcome: Sendable, Equatable {
    /// Granted now (debt repaid first), or earlier under the same reference; the account as it is now.
    case granted(CreditAccount)
    case unknownUser
    /// The reference was already used for another user or amount.
    case mismatch
}

/// What `CreditLedgerRepository.debit` did.
enum DebitOutcome: Sendable, Equatable {
    /// Taken now, or earlier under the same reference (`shortfall` nil); the account as it is now.
    /// `shortfall` is what the balance could not cover and became debt.
    case debited(CreditAccount, shortfall: Int64?)
    case unknownUser
    /// The reference was already used for another user or amount.
    case mismatch
}

/// What rotating a refresh token did.
enum RefreshOutcome: Sendable, Equatable {
    /// The presented token is now used; the new one belongs to the same family.
    case rotated(userID: UserID, familyID: String)
    /// The presented token had been used before: the whole family is now revoked.
    case reused(userID: UserID, familyID: String)
    /// Unknown, expired or revoked.
    case invalid
}
