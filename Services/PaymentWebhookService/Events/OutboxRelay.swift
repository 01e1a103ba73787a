import Logging
import PostgresClient
import RedisClient
import ServiceLifecycle

/// Moves outbox rows onto their Redis streams (`XADD <stream> MAXLEN ~ 100000 * m <envelope>`),
/// as generation's relay does.
///
/// Rows are sent in id order and marked sent in the same transaction that locked them
/// (`FOR UPDATE SKIP LOCKED`, so replicas share the work). While Redis is down the rows wait: the
/// relay backs off and retries, and nothing committed is lost. Delivery is at least once; the
/// consumers are idempotent.
struct OutboxRelay: Service {
    static let batchSize = 100
    static let streamMaxLength = 100_000

    let pool: PostgresPool
    let redis: RedisPool
    let interval: Duration
    /// False until the migrations are applied.
    let ready: @Sendable () -> Bool
    let logger: Logger

    func run() async throws {
        var backoff = Duration.milliseconds(100)
        var lastPurge = ContinuousClock.now
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            var wait = interval
            if ready() {
                do {
                    let sent = try await relay()
                    backoff = .milliseconds(100)
                    if ContinuousClock.now - lastPurge > .seconds(600) {
                        lastPurge = .now
                        try await pool.execute("DELETE FROM outbox WHERE sent_at < now() - interval '1 day'", [])
                    }
                    if sent == Self.batchSize { wait = .zero }
                } catch {
                    logger.warning("outbox relay failed; retrying", metadata: ["error": "\(error)", "retry_in": "\(backoff)"])
                    wait = backoff
                    backoff = min(backoff * 2, .seconds(5))
                }
            }
            if wait > .zero {
                let pause = wait
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: pause) }
            }
        }
    }

    /// Sends up to `batchSize` unsent rows; returns how many went out. Rows sent before a failure
    /// stay marked, the failure is rethrown after the commit.
    func relay() async throws -> Int {
        let redis = redis
        let (sent, failure) = try await pool.transaction { connection -> (Int, String?) in
            let rows = try await connection.query(
                "SELECT id, stream, envelope FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED", [Self.batchSize]
            ).map { (try $0.decode(Int64.self, "id"), try $0.decode(String.self, "stream"), try $0.decode(String.self, "envelope")) }
            var sent: [Int64] = []
            var failure: String?
            for (id, stream, envelope) in rows {
                do {
                    _ = try await redis.xadd(stream, maxLength: Self.streamMaxLength, fields: [("m", envelope)])
                    sent.append(id)
                } catch {
                    failure = "\(error)"
                    break
                }
            }
            if !sent.isEmpty {
                let ids = "{" + sent.map(String.init).joined(separator: ",") + "}"
                try await connection.execute("UPDATE outbox SET sent_at = now() WHERE id = ANY($1::bigint[])", [ids])
            }
            return (sent.count, failure)
        }
        if let failure { throw OutboxRelayFailure(sent: sent, reason: failure) }
        return sent
    }
}

/// Sending failed after `sent` rows went out (those are marked; the rest wait for the next round).
struct OutboxRelayFailure: Error, CustomStringConvertible {
    var sent: Int
    var reason: String
    var description: String { "outbox relay sent \(sent) rows, then failed: \(reason)" }
}
