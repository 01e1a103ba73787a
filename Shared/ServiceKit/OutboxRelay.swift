package import Core
import Foundation
package import Logging
import Metrics
package import PostgresClient
package import RedisClient
import ServiceLifecycle

/// One row of a service's `outbox` table (`id`, `stream`, `envelope`, `sent_at`): an integration
/// event written in the same transaction as the change it announces, waiting to go onto its stream.
package struct OutboxRow: Sendable, Equatable {
    package var id: Int64
    package var stream: String
    package var envelope: String

    package init(id: Int64, stream: String, envelope: String) {
        self.id = id
        self.stream = stream
        self.envelope = envelope
    }
}

/// Outbox rows waiting to be put on Redis streams.
package protocol OutboxRepository: Sendable {
    /// Locks up to `limit` unsent rows (skipping rows another relay holds), hands each to `send` in id
    /// order and marks those it accepted as sent; returns how many were sent.
    ///
    /// When `send` throws, the rows sent before it are still marked and the error is rethrown.
    func relay(limit: Int, send: @Sendable (OutboxRow) async throws -> Void) async throws -> Int

    /// Deletes rows sent before `cutoff`; returns how many.
    func purgeSent(before cutoff: Duration) async throws -> Int

    /// Marks rows sent within `window` unsent again, except those for streams `keep` says to leave
    /// alone; returns how many. For when Redis lost what they carried.
    func resend(within window: Duration, except keep: @Sendable (String) -> Bool) async throws -> Int

    /// Unsent rows and the age of the oldest, seconds (0 when none).
    func backlog() async throws -> (rows: Int, oldestSeconds: Double)
}

/// `OutboxRepository` on the `outbox` table of the service's own schema.
package struct PostgresOutboxRepository: OutboxRepository {
    let pool: PostgresPool

    package init(pool: PostgresPool) {
        self.pool = pool
    }

    package func relay(limit: Int, send: @Sendable (OutboxRow) async throws -> Void) async throws -> Int {
        let (count, failure) = try await pool.transaction { connection -> (Int, String?) in
            let rows = try await connection.query(
                "SELECT id, stream, envelope FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
                [limit]
            ).map { row in
                OutboxRow(
                    id: try row.decode(Int64.self, "id"), stream: try row.decode(String.self, "stream"),
                    envelope: try row.decode(String.self, "envelope")
                )
            }
            var sent: [Int64] = []
            var failure: String?
            for row in rows {
                do {
                    try await send(row)
                    sent.append(row.id)
                } catch {
                    failure = "\(error)"
                    break
                }
            }
            if !sent.isEmpty {
                // Marking what did go out keeps a Redis outage from re-sending it later (it would be
                // harmless, consumers dedupe, but noisy).
                let ids = "{" + sent.map(String.init).joined(separator: ",") + "}"
                try await connection.execute("UPDATE outbox SET sent_at = now() WHERE id = ANY($1::bigint[])", [ids])
            }
            return (sent.count, failure)
        }
        // Thrown after COMMIT, so the rows that did go out stay marked.
        if let failure { throw OutboxRelayFailure(sent: count, reason: failure) }
        return count
    }

    package func resend(within window: Duration, except keep: @Sendable (String) -> Bool) async throws -> Int {
        let streams = try await pool.query(
            "SELECT DISTINCT stream FROM outbox WHERE sent_at > now() - make_interval(secs => $1)", [Double(window.components.seconds)]
        ).map { try $0.decode(String.self, "stream") }.filter { !keep($0) }
        guard !streams.isEmpty else { return 0 }
        let list = "{" + streams.map { "\"" + $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
            .joined(separator: ",") + "}"
        return try await pool.execute(
            "UPDATE outbox SET sent_at = NULL WHERE sent_at > now() - make_interval(secs => $1) AND stream = ANY($2::text[])",
            [Double(window.components.seconds), list]
        )
    }

    package func backlog() async throws -> (rows: Int, oldestSeconds: Double) {
        let row = try await pool.query(
            "SELECT count(*) AS n, COALESCE(EXTRACT(EPOCH FROM now() - min(created_at))::float8, 0) AS age FROM outbox WHERE sent_at IS NULL"
        ).first
        return (try row?.decode(Int.self, "n") ?? 0, try row?.decode(Double.self, "age") ?? 0)
    }

    package func purgeSent(before cutoff: Duration) async throws -> Int {
        try await pool.execute(
            "DELETE FROM outbox WHERE sent_at IS NOT NULL AND sent_at < now() - make_interval(secs => $1)",
            [Double(cutoff.components.seconds)]
        )
    }
}

/// `send` failed after `sent` rows went out (those are marked sent; the rest wait for the next round).
package struct OutboxRelayFailure: Error, CustomStringConvertible {
    package var sent: Int
    package var reason: String
    package var description: String { "outbox relay sent \(sent) rows, then failed: \(reason)" }
}

/// Moves outbox rows onto their Redis streams (`XADD <stream> MAXLEN ~ 100000 * m <envelope>`), or
/// hands them to `deliver` when the service has its own destinations (generation's job queue).
///
/// Rows are sent in id order and marked sent in the same transaction that locked them
/// (`FOR UPDATE SKIP LOCKED`, so replicas share the work). The writer calls `signal.wake()` after its
/// commit, so a row goes out at once; `interval` is only the safety net. While Redis is down the rows
/// simply wait: the relay backs off and retries, and nothing committed is lost. Delivery is at least
/// once; consumers are idempotent. When Redis has lost its data (`PipelineKeys.epoch` gone or
/// changed), rows sent within `resendWindow` go out again, except those `keepSent` names (the job
/// queue, which generation's reconciler restores from the jobs themselves).
///
/// Every 5 s it exports `pingvas_outbox_pending` (unsent rows) and `pingvas_outbox_lag_seconds` (age of
/// the oldest unsent row): a lag that grows means events are not reaching Redis.
package struct OutboxRelay: Service {
    package static let batchSize = 100
    package static let streamMaxLength = 100_000

    let outbox: any OutboxRepository
    let redis: RedisPool
    let interval: Duration
    let signal: OutboxSignal
    let epochKey: String
    let resendWindow: Duration
    let keepSent: @Sendable (String) -> Bool
    let deliver: @Sendable (OutboxRow) async throws -> Void
    /// False until the migrations are applied.
    let ready: @Sendable () -> Bool
    let logger: Logger

    package init(
        outbox: any OutboxRepository, redis: RedisPool, keys: PipelineKeys, interval: Duration, signal: OutboxSignal = OutboxSignal(),
        resendWindow: Duration = .seconds(3600), keepSent: @escaping @Sendable (String) -> Bool = { _ in false },
        deliver: (@Sendable (OutboxRow) async throws -> Void)? = nil, ready: @escaping @Sendable () -> Bool, logger: Logger
    ) {
        self.outbox = outbox
        self.redis = redis
        self.interval = interval
        self.signal = signal
        self.epochKey = keys.epoch
        self.resendWindow = resendWindow
        self.keepSent = keepSent
        self.deliver = deliver ?? { row in
            _ = try await redis.xadd(row.stream, maxLength: Self.streamMaxLength, fields: [("m", row.envelope)])
        }
        self.ready = ready
        self.logger = logger
    }

    package func run() async throws {
        guard await Background.waitUntil(ready) else { return }
        var backoff = Duration.milliseconds(100)
        var lastPurge = ContinuousClock.now
        var epoch: String?
        var lastBacklog = ContinuousClock.now - .seconds(10)
        let pending = Gauge(label: "pingvas_outbox_pending"), lag = Gauge(label: "pingvas_outbox_lag_seconds")
        while !Background.shouldStop {
            do {
                if ContinuousClock.now - lastBacklog >= .seconds(5) {
                    lastBacklog = .now
                    let backlog = try await outbox.backlog()
                    pending.record(backlog.rows)
                    lag.record(backlog.oldestSeconds)
                }
                epoch = try await checkEpoch(seen: epoch)
                let sent = try await outbox.relay(limit: Self.batchSize, send: deliver)
                backoff = .milliseconds(100)
                if ContinuousClock.now - lastPurge > .seconds(600) {
                    lastPurge = .now
                    let purged = try await outbox.purgeSent(before: max(resendWindow, .seconds(86_400)))
                    if purged > 0 { logger.debug("purged sent outbox rows", metadata: ["count": "\(purged)"]) }
                }
                if sent < Self.batchSize {
                    let signal = signal, interval = interval
                    await cancelWhenGracefulShutdown { await signal.wait(upTo: interval) }
                }
            } catch {
                logger.warning("outbox relay failed; retrying", metadata: ["error": "\(error)", "retry_in": "\(backoff)"])
                await Background.pause(backoff)
                backoff = min(backoff * 2, .seconds(5))
            }
        }
    }

    /// The epoch Redis holds now. At the first look an existing epoch is adopted; when it is gone
    /// (Redis lost its data) or changed since, a new one is set and recent rows are marked for
    /// sending again.
    private func checkEpoch(seen: String?) async throws -> String {
        if let current = try await redis.send("GET", epochKey).string, seen == nil || current == seen { return current }
        _ = try await redis.send("SET", epochKey, UUID().uuidString, "NX")
        let current = try await redis.send("GET", epochKey).string ?? ""
        let resent = try await outbox.resend(within: resendWindow, except: keepSent)
        logger.notice("Redis lost its data: recent events go out again", metadata: ["rows": "\(resent)"])
        return current
    }
}
