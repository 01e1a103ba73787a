import Foundation
import Logging
import PostgresClient
import ServiceKit
import ServiceLifecycle

/// Applies stored deliveries, outside the webhook request.
///
/// Each delivery is claimed with `FOR UPDATE SKIP LOCKED` in its own transaction, so replicas
/// never apply the same one at once; the effect and the `processed` mark commit together. A
/// failed attempt is rolled back to a savepoint and recorded in the same transaction: the
/// delivery goes back to `pending` with exponential backoff, or to `failed` after `maxAttempts`
/// (or at once when it can never succeed). Nothing is ever deleted.
struct DeliveryProcessor: Service {
    let pool: PostgresPool
    let applier: EventApplier
    let pollInterval: Duration
    let retryBase: Duration
    let retryCap: Duration
    let maxAttempts: Int
    /// False until the migrations are applied.
    let ready: @Sendable () -> Bool
    let logger: Logger

    func run() async throws {
        var errorBackoff = Duration.milliseconds(200)
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            var wait = pollInterval
            if ready() {
                do {
                    // Drain what is due before sleeping again.
                    while !Task.isShuttingDownGracefully, try await processNext() {}
                    errorBackoff = .milliseconds(200)
                } catch {
                    logger.warning("delivery processing failed; retrying", metadata: ["error": "\(error)", "retry_in": "\(errorBackoff)"])
                    wait = errorBackoff
                    errorBackoff = min(errorBackoff * 2, .seconds(10))
                }
            }
            let pause = wait
            await Background.pause(pause)
        }
    }

    /// Claims and applies one due delivery; false when none was due.
    func processNext() async throws -> Bool {
        try await pool.transaction { connection in
            guard let delivery = try await PostgresDeliveryRepository.claimNext(on: connection) else { return false }
            var metadata: Logger.Metadata = ["delivery_id": "\(delivery.id)", "event_name": "\(delivery.eventName)"]
            try await connection.execute("SAVEPOINT apply", [])
            do {
                let note = try await applier.apply(delivery.body, on: connection)
                try await PostgresDeliveryRepository.markProcessed(delivery.id, note: note, on: connection)
                logger.info("delivery processed", metadata: metadata)
            } catch {
                try await connection.execute("ROLLBACK TO SAVEPOINT apply", [])
                let attempt = delivery.attempts + 1
                var retryIn: Duration? = backoff(afterAttempt: attempt)
                if case ProcessingError.permanent = error { retryIn = nil }
                if attempt >= maxAttempts { retryIn = nil }
                try await PostgresDeliveryRepository.markAttemptFailed(delivery.id, error: "\(error)", retryIn: retryIn, on: connection)
                metadata["attempt"] = "\(attempt)"
                metadata["error"] = "\(error)"
                if let retryIn {
                    metadata["retry_in"] = "\(retryIn)"
                    logger.warning("delivery attempt failed; will retry", metadata: metadata)
                } else {
                    logger.error("delivery failed; kept as failed", metadata: metadata)
                }
            }
            return true
        }
    }

    /// `retryBase` doubled per earlier attempt, at most `retryCap`.
    func backoff(afterAttempt attempt: Int) -> Duration {
        RetryBackoff(base: retryBase, cap: retryCap).delay(afterAttempt: attempt)
    }
}
