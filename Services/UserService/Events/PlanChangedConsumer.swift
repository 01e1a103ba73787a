import Core
import Foundation
import Logging
import RedisClient
import ServiceKit
import ServiceLifecycle

/// Applies `plan.changed` events from payment-webhook (`PipelineKeys.planEvents`, group `user`) to the
/// user's plan, which the next access token carries (and with it the gateway's rate limit and the
/// queue priority of new jobs).
///
/// A message is acknowledged only after its change is committed. Applying is idempotent and
/// ordered by the event's `effective_at` (a change not newer than the stored one is ignored), so a
/// redelivery, or an older change claimed late from a dead replica, changes nothing. A message
/// that can never be read goes to the events dead-letter stream with the reason, and is acknowledged.
struct PlanChangedConsumer: EventStreamConsumer {
    let users: any UserRepository
    let reader: EventStreamReader
    let logger: Logger

    func handle(_ messages: [RedisStreamMessage]) async throws {
        for message in messages {
            let event: Envelope<PlanChanged>?
            do {
                event = try EventStreamReader.decode(PlanChanged.self, message)
            } catch {
                try await reader.deadLetter(message, reason: error)
                try await reader.acknowledge([message.id])
                continue
            }
            if let change = event?.data {
                guard let applied = await apply(change) else { return }  // shutting down: stays pending, claimed later
                logger.info(
                    "plan change", metadata: ["user_id": "\(change.userID)", "plan": "\(change.plan.rawValue)", "applied": "\(applied)"]
                )
            }
            try await reader.acknowledge([message.id])
        }
    }

    /// Applies `change`, retrying while the database is unavailable; nil when stopping first.
    private func apply(_ change: PlanChanged) async -> Bool? {
        var backoff = Duration.milliseconds(100)
        while true {
            do {
                return try await users.applyPlanChange(id: change.userID, plan: change.plan, changedAt: change.effectiveAt)
            } catch {
                logger.warning("applying a plan change failed; retrying", metadata: ["user_id": "\(change.userID)", "error": "\(error)"])
                if Task.isCancelled || Task.isShuttingDownGracefully { return nil }
                let wait = backoff
                await Background.pause(wait)
                backoff = min(backoff * 2, .seconds(5))
            }
        }
    }
}
