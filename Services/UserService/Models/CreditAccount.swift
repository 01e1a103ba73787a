/// A user's credits: the spendable balance (never negative) and the debt a refund left when the
/// balance could not cover it. While `debt` is above zero no new job is accepted.
struct CreditAccount: Sendable, Equatable {
    var balance: Int64
    var debt: Int64
}
