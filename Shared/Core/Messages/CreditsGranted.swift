/// Integration event: credits were added to a user's balance (`credits.granted`).
///
/// `reference` identifies the cause (order id, subscription period, ...) and makes the grant
/// idempotent: the ledger applies each `(user_id, reference)` once.
package struct CreditsGranted: WireMessage, Equatable {
    package static let type = "credits.granted"

    package var userID: UserID
    package var amount: Credits
    /// Why, e.g. `"credit_pack"`, `"subscription_renewal"`, `"signup_bonus"`.
    package var reason: String
    package var reference: String

    package init(userID: UserID, amount: Credits, reason: String, reference: String) {
        self.userID = userID
        self.amount = amount
        self.reason = reason
        self.reference = reference
    }

    enum CodingKeys: String, CodingKey {
        case amount, reason, reference
        case userID = "user_id"
    }
}
