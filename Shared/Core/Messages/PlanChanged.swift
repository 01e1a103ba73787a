package import Foundation

/// Integration event: a user's plan changed (`plan.changed`), e.g. from a subscription webhook.
package struct PlanChanged: WireMessage, Equatable {
    package static let type = "plan.changed"

    package var userID: UserID
    package var plan: Plan
    package var effectiveAt: Date
    /// What caused it (e.g. the Lemon Squeezy subscription id); consumers ignore stale changes.
    package var sourceRef: String

    package init(userID: UserID, plan: Plan, effectiveAt: Date, sourceRef: String) {
        self.userID = userID
        self.plan = plan
        self.effectiveAt = effectiveAt
        self.sourceRef = sourceRef
    }

    enum CodingKeys: String, CodingKey {
        case plan
        case userID = "user_id"
        case effectiveAt = "effective_at"
        case sourceRef = "source_ref"
    }
}
