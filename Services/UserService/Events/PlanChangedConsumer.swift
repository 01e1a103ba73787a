import Core
import Foundation
import Logging
import RedisClient
import ServiceLifecycle

/// Applies `plan.changed` events from payment-webhook (`pingvas:events:plan`, group `user`) to the
/// user's plan, which the next access token carries (and with it the gateway's rate limit and the
/// queue priority of new jobs).
///
/// A message is acknowledged only after its change is committed. Applying is idempotent and
/// ordered by the event's `effective_at` (a change not newer than the stored one is ignored), so a
/// redelivery, or an older change claimed late from a dead replica, changes nothing. A message
/// that can never be read goes to `pingvas:events:dead` with the reason, and is acknowledged.
struct PlanChangedConsumer: Service {
    let redis: RedisPool
    let users: any UserRepository
    let stream: String
    let group: String
    let consumer: String
    let lease: Duration
    /// False until the migrations are applied.
    let ready: @Sendable () -> Bool
    let logger: Logger

    static let deadLetterStream = "pingvas:events:dead"

    func run() async throws {
        var backoff = Duration.milliseconds(200)
        var groupReady = false
        while !shouldStop {
            guard ready() else {
                await pause(.milliseconds(50))
                continue
            }
            do {
                if !groupReady {
                    try await redis.xgroupCreate(stream, group: group, startID: "0")
                    groupReady = true
                }
                let claimed = try await redis.xautoclaim(stream, group: group, consumer: consumer, minIdle: lease, count: 50)
                try await handle(claimed.messages)
                let fresh = try await redis.xreadgroup(group: group, consumer: consumer, streams: [stream], count: 50, block: .seconds(1))
                try await handle(fresh)
                backoff = .milliseconds(200)
            } catch {
                if let error = error as? RedisError, error.serverCode == "NOGROUP" { groupReady = false }
                logger.warning("plan event consumer failed; retrying", metadata: ["error": "\(error)", "retry_in": "\(backoff)"])
                await pause(backoff)
                backoff = min(backoff * 2, .seconds(5))
            }
        }
    }

    func handle(_ messages: [RedisStreamMessage]) async throws {
        for message in messages {
            let event: Envelope<PlanChanged>?
            do {
                event = try decode(message)
            } catch {
                logger.error("unreadable plan event; dead-lettered", metadata: ["message_id": "\(message.id)", "error": "\(error)"])
                _ = try await redis.xadd(
                    Self.deadLetterStream, maxLength: 10_000,
                    fields: [("stream", stream), ("id", message.id), ("reason", "\(error)"), ("m", message.fields["m"] ?? "")]
                )
                _ = try await redis.xack(stream, group: group, ids: [message.id])
                continue
            }
            if let change = event?.data {
                guard let applied = await apply(change) else { return }  // shutting down: stays pending, claimed later
                logger.info(
                    "plan change", metadata: ["user_id": "\(change.userID)", "plan": "\(change.plan.rawValue)", "applied": "\(applied)"]
                )
            }
            _ = try await redis.xack(stream, group: group, ids: [message.id])
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
                if shouldStop { return nil }
                await pause(backoff)
                backoff = min(backoff * 2, .seconds(5))
            }
        }
    }

    /// The event, or nil for other event types on the stream (acknowledged and skipped).
    func decode(_ message: RedisStreamMessage) throws(WireCodecError) -> Envelope<PlanChanged>? {
        guard let body = message.fields["m"] else { throw WireCodecError.missingField("m") }
        let bytes = Array(body.utf8)
        guard try WireCodec.peek(bytes).type == PlanChanged.type else { return nil }
        return try WireCodec.decode(PlanChanged.self, from: bytes)
    }
}

/// Sleeps for `duration`, returning early when the task is cancelled or a graceful shutdown starts.
private func pause(_ duration: Duration) async {
    try? await cancelWhenGracefulShutdown { try await Task.sleep(for: duration) }
}

/// True once a background loop should stop.
private var shouldStop: Bool { Task.isCancelled || Task.isShuttingDownGracefully }
