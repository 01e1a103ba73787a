/// A subscription plan and the limits that follow from it.
///
/// The raw values are the wire and database form. Limits are per user.
package enum Plan: String, Codable, Sendable, CaseIterable, Comparable {
    case free
    case basic
    case pro
    case studio

    /// Scheduling priority of this plan's jobs; higher is served first (fairness between users
    /// of the same plan is the queue's business).
    package var priority: Int {
        switch self {
        case .free: 10
        case .basic: 20
        case .pro: 30
        case .studio: 40
        }
    }

    /// How many jobs a user may have waiting in the queue at once.
    package var maxQueuedJobs: Int {
        switch self {
        case .free: 2
        case .basic: 5
        case .pro: 10
        case .studio: 25
        }
    }

    /// How many of a user's jobs may run on workers at the same time.
    package var maxRunningJobs: Int {
        switch self {
        case .free: 1
        case .basic: 1
        case .pro: 2
        case .studio: 4
        }
    }

    /// The gateway's per-user API rate limit.
    package var requestsPerMinute: Int {
        switch self {
        case .free: 30
        case .basic: 60
        case .pro: 120
        case .studio: 300
        }
    }

    package static func < (lhs: Plan, rhs: Plan) -> Bool { lhs.priority < rhs.priority }
}
