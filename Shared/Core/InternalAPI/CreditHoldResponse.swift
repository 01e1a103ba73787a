/// The answer to a `CreditHoldRequest`: the hold, or none when the balance is too low.
package struct CreditHoldResponse: Codable, Sendable, Equatable {
    /// Nil when nothing was held (insufficient credits).
    package var holdID: String?
    /// The spendable balance after the hold.
    package var balance: Credits

    package init(holdID: String?, balance: Credits) {
        self.holdID = holdID
        self.balance = balance
    }

    enum CodingKeys: String, CodingKey {
        case balance
        case holdID = "hold_id"
    }
}
