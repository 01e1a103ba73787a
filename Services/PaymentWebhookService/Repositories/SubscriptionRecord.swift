import Core
import Foundation

/// The stored state of one Lemon Squeezy subscription.
struct SubscriptionRecord: Sendable, Equatable {
    var id: Int64
    var userID: UserID
    var variantID: Int64
    var plan: Plan
    /// on_trial, active, paused, past_due, unpaid, cancelled or expired.
    var status: String
    var renewsAt: Date?
    var endsAt: Date?
    var trialEndsAt: Date?
    var updatedAt: Date

    /// The plan this subscription gives at `now`: on_trial, active and past_due (Lemon Squeezy is
    /// still retrying the payment) keep it; cancelled keeps it until `ends_at`; paused, unpaid and
    /// expired give nothing.
    func effectivePlan(at now: Date) -> Plan {
        switch status {
        case "on_trial", "active", "past_due": plan
        case "cancelled": (endsAt.map { $0 > now } ?? false) ? plan : .free
        default: .free
        }
    }
}

/// A subscription's state as one event states it, before it is applied.
struct SubscriptionState: Sendable {
    var id: Int64
    var userID: UserID
    var variantID: Int64
    var plan: Plan
    var status: String
    /// Lemon Squeezy's timestamps, as sent (PostgreSQL parses them).
    var renewsAt: String?
    var endsAt: String?
    var trialEndsAt: String?
    var updatedAt: String
}
