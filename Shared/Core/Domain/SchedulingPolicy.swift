import Foundation

/// How the job queue treats each plan's jobs: the class they queue in, the class's share of the
/// dispatches, how many may run at once per user, and how long a worker with another model warm
/// may pass them over (docs/scheduling.md).
///
/// Defaults follow `Plan`; `PINGVAS_SCHEDULING` overrides single values, e.g.
/// `studio.weight=6,free.max_running=2,pro.affinity_ms=5000`.
package struct SchedulingPolicy: Sendable, Equatable {
    package struct PlanClass: Sendable, Equatable {
        /// The class a job queues in; classes are kept apart, higher wins ties.
        package var priority: Int
        /// The class's share of dispatches relative to the others (stride scheduling), at least 1.
        package var weight: Int
        /// A user's jobs running at once, in all pools.
        package var maxRunning: Int
        /// How long (ms) a waiting job may be passed over by a worker that prefers a job for a model
        /// it has loaded; 0: never.
        package var affinityMilliseconds: Int

        package init(priority: Int, weight: Int, maxRunning: Int, affinityMilliseconds: Int) {
            self.priority = priority
            self.weight = weight
            self.maxRunning = maxRunning
            self.affinityMilliseconds = affinityMilliseconds
        }
    }

    package var classes: [Plan: PlanClass]

    package init(classes: [Plan: PlanClass]) {
        self.classes = classes
    }

    /// Weights free 1, basic 2, pro 3, studio 4; caps from `Plan.maxRunningJobs`; passed over for
    /// at most 10 s (free, basic) or 5 s (pro, studio).
    package static let `default` = SchedulingPolicy(classes: Dictionary(uniqueKeysWithValues: Plan.allCases.map { plan in
        (plan, PlanClass(
            priority: plan.priority, weight: max(1, plan.priority / 10), maxRunning: plan.maxRunningJobs,
            affinityMilliseconds: plan >= .pro ? 5_000 : 10_000
        ))
    }))

    package subscript(plan: Plan) -> PlanClass {
        classes[plan] ?? Self.default.classes[plan]!
    }

    /// The default with `overrides` applied: comma-separated `<plan>.<field>=<integer>`, fields
    /// `priority`, `weight`, `max_running`, `affinity_ms`.
    package static func parse(_ overrides: String) throws(SchedulingPolicyError) -> SchedulingPolicy {
        var policy = SchedulingPolicy.default
        for item in overrides.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !item.isEmpty {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            let path = parts.first?.split(separator: ".").map(String.init) ?? []
            guard parts.count == 2, path.count == 2, let plan = Plan(rawValue: path[0]), let value = Int(parts[1]) else {
                throw SchedulingPolicyError(item: item, reason: "expected <plan>.<field>=<integer>")
            }
            var planClass = policy[plan]
            switch path[1] {
            case "priority" where value > 0: planClass.priority = value
            case "weight" where value > 0: planClass.weight = value
            case "max_running" where value > 0: planClass.maxRunning = value
            case "affinity_ms" where value >= 0: planClass.affinityMilliseconds = value
            case "priority", "weight", "max_running", "affinity_ms":
                throw SchedulingPolicyError(item: item, reason: "value out of range")
            default:
                throw SchedulingPolicyError(item: item, reason: "unknown field (priority, weight, max_running, affinity_ms)")
            }
            policy.classes[plan] = planClass
        }
        return policy
    }
}

/// A `PINGVAS_SCHEDULING` item that cannot be read.
package struct SchedulingPolicyError: Error, CustomStringConvertible {
    package var item: String
    package var reason: String
    package var description: String { "PINGVAS_SCHEDULING: '\(item)': \(reason)" }
}
