import Logging
import RedisClient
import ServiceLifecycle

/// Moves outbox rows onto their Redis streams (`XADD <stream> MAXLEN ~ 100000 * m <envelope>`).
///
/// Rows are sent in id order and marked sent in the same transaction that locked them
/// (`FOR UPDATE SKIP LOCKED`, so replicas share the work). While Redis is down the rows simply
/// wait: the relay backs off and retries, and nothing accepted is lost. Delivery is at least once.
struct OutboxRelay: Service {
    static let batchSize = 100
    static let streamMaxLength = 100_000

    let outbox: any OutboxRepository
    let redis: RedisPool
    let interval: Duration
    let ready: @Sendable () -> Bool
    let logger: Logger

    func run() async throws {
        guard await waitUntil(ready) else { return }
        var backoff = Duration.milliseconds(100)
        var lastPurge = ContinuousClock.now
        let redis = redis
        while !shouldStop {
            do {
                let sent = try await outbox.relay(limit: Self.batchSize) { row in
                    _ = try await redis.xadd(row.stream, maxLength: Self.streamMaxLength, fields: [("m", row.envelope)])
                }
                backoff = .milliseconds(100)
                if ContinuousClock.now - lastPurge > .seconds(600) {
                    lastPurge = .now
                    let purged = try await outbox.purgeSent(before: .seconds(86_400))
                    if purged > 0 { logger.debug("purged sent outbox rows", metadata: ["count": "\(purged)"]) }
                }
                if sent < Self.batchSize { await pause(interval) }
            } catch {
                logger.warning("outbox relay failed; retrying", metadata: ["error": "\(error)", "retry_in": "\(backoff)"])
                await pause(backoff)
                backoff = min(backoff * 2, .seconds(5))
            }
        }
    }
}
