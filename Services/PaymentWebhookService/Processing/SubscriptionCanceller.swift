import Core
import Foundation
import Logging
import ServiceKit
import ServiceLifecycle

/// Cancels at Lemon Squeezy every subscription of a deleted account (`PostgresCancellationRepository`
/// says which are due), so nobody is billed again for an account that is gone.
///
/// Each pass claims what is due and asks Lemon Squeezy to cancel it. An attempt that fails (no
/// answer, 429, 5xx, or a 4xx such as a revoked key) is retried after `backoff`'s delay, with no
/// limit: a renewing subscription must not be given up on. The subscription then runs to the end of
/// the period already paid; its webhooks (`subscription_cancelled`, later `subscription_expired`)
/// update the stored state as usual.
struct SubscriptionCanceller: Service {
    let repository: PostgresCancellationRepository
    let client: LemonSqueezyAPIClient
    let interval: Duration
    let backoff: RetryBackoff
    /// How long a claimed attempt keeps others off it: longer than a call can take.
    let lease: Duration
    let ready: @Sendable () -> Bool
    let logger: Logger

    func run() async throws {
        while !Background.shouldStop {
            if ready() {
                do {
                    _ = try await pass()
                } catch {
                    logger.warning("subscription cancellation pass failed; retrying", metadata: ["error": "\(error)"])
                }
            }
            await Background.pause(interval)
        }
    }

    /// One attempt for each subscription due now; returns how many were settled.
    func pass() async throws -> Int {
        var settled = 0
        for due in try await repository.claimDue(limit: 20, lease: lease) {
            let metadata: Logger.Metadata = ["subscription_id": "\(due.subscriptionID)", "user_id": "\(due.userID)", "attempt": "\(due.attempts)"]
            let known: Bool
            do {
                known = try await client.cancelSubscription(due.subscriptionID)
            } catch {
                let retryIn = backoff.delay(afterAttempt: due.attempts)
                try await repository.failed(due.subscriptionID, error: error.description, retryIn: retryIn)
                logger.error(
                    "could not cancel the subscription of a deleted account; retrying",
                    metadata: metadata.merging(["error": "\(error)", "retry_in": "\(retryIn)"]) { $1 }
                )
                continue
            }
            if known {
                try await repository.sent(due.subscriptionID, note: nil)
                logger.notice("subscription of a deleted account cancelled at Lemon Squeezy", metadata: metadata)
            } else {
                try await repository.sent(due.subscriptionID, note: "Lemon Squeezy does not know the subscription (404)")
                logger.warning("subscription of a deleted account unknown to Lemon Squeezy; nothing to cancel", metadata: metadata)
            }
            settled += 1
        }
        return settled
    }
}
