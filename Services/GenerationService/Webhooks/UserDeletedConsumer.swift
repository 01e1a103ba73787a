import Core
import Foundation
import Logging
import RedisClient
import ServiceKit
import ServiceLifecycle

/// `user.deleted` from user's account events: the account's webhook endpoints (with their
/// deliveries, a job's own ones too) and its per-job signing secret go, so nothing more is sent on
/// its behalf. Idempotent. Jobs already accepted run on and settle their holds as usual.
///
/// Deletions are rare and need no hurry here, so this polls every `interval` without blocking rather
/// than holding one of generation's Redis connections in a blocking read all the time (the results
/// consumer already does). A message is acknowledged once applied; one left pending by a dead
/// replica is claimed after `lease`.
struct UserDeletedConsumer: Service {
    let webhooks: any WebhookRepository
    let redis: RedisPool
    let stream: String
    let deadLetterStream: String
    var group = PipelineKeys.resultsGroup
    var consumer = ServiceConfiguration.instanceName
    var interval: Duration = .seconds(2)
    var lease: Duration = .seconds(60)
    let ready: @Sendable () -> Bool
    let logger: Logger

    func run() async throws {
        var groupReady = false
        while !Background.shouldStop {
            if ready() {
                do {
                    if !groupReady {
                        try await redis.xgroupCreate(stream, group: group, startID: "0")
                        groupReady = true
                    }
                    let claimed = try await redis.xautoclaim(stream, group: group, consumer: consumer, minIdle: lease, count: 50)
                    try await handle(claimed.messages)
                    try await handle(try await redis.xreadgroup(group: group, consumer: consumer, streams: [stream], count: 50, block: nil))
                } catch {
                    if let error = error as? RedisError, error.serverCode == "NOGROUP" { groupReady = false }
                    logger.warning("user events consumer failed; retrying", metadata: ["stream": "\(stream)", "error": "\(error)"])
                }
            }
            await Background.pause(interval)
        }
    }

    func handle(_ messages: [RedisStreamMessage]) async throws {
        for message in messages {
            do {
                if let event = try EventStreamReader.decode(UserDeleted.self, message) {
                    let removed = try await webhooks.deleteAll(user: event.data.userID.uuid)
                    logger.notice("webhooks of a deleted account removed", metadata: ["user_id": "\(event.data.userID)", "endpoints": "\(removed)"])
                }
            } catch let error as WireCodecError {
                logger.error("unreadable event; dead-lettered", metadata: ["stream": "\(stream)", "message_id": "\(message.id)", "error": "\(error)"])
                _ = try await redis.xadd(
                    deadLetterStream, maxLength: 10_000,
                    fields: [("stream", stream), ("id", message.id), ("reason", "\(error)"), ("m", message.fields["m"] ?? "")]
                )
            }
            _ = try await redis.xack(stream, group: group, ids: [message.id])
        }
    }
}
