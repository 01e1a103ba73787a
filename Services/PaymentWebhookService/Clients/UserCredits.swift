import Core

/// The user service's credit grants and take-backs, as payments use them.
protocol UserCredits: Sendable {
    /// Grants `amount` credits to `user` once per `reference`; a repeat with the same reference
    /// grants nothing more. Throws `ProcessingError.permanent` when the user service refuses the
    /// grant for good (unknown user, reference used differently), any other error when it may
    /// succeed later.
    func grant(user: UserID, amount: Int64, reason: String, reference: String) async throws

    /// Takes `amount` credits back from `user` once per `reference` (a refund); what the balance
    /// cannot cover becomes debt in the user service. Errors as for `grant`.
    func debit(user: UserID, amount: Int64, reason: String, reference: String) async throws
}
