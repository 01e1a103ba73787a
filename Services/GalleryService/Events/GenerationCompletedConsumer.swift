import Core
import Foundation
import Logging
import RedisClient
import ServiceLifecycle

/// Turns `generation.completed` events into image records.
///
/// Reads the events stream in the `gallery` consumer group; a message is acknowledged only after
/// its images are committed, and recording is idempotent by image id, so a redelivery (after a
/// crash, or a claim of a message left pending by a dead replica) changes nothing. A message that
/// can never be read goes to `pingvas:events:dead` with the reason, and is acknowledged.
struct GenerationCompletedConsumer: Service {
    let redis: RedisPool
    let repository: any ImageRepository
    let stream: String
    let group: String
    let consumer: String
    let lease: Duration
    let logger: Logger

    static let deadLetterStream = "pingvas:events:dead"

    func run() async throws {
        var backoff = Duration.milliseconds(200)
        var groupReady = false
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                if !groupReady {
                    try await redis.xgroupCreate(stream, group: group, startID: "0")
                    groupReady = true
                }
                let claimed = try await redis.xautoclaim(stream, group: group, consumer: consumer, minIdle: lease, count: 50)
                try await handle(claimed.messages)
                let fresh = try await redis.xreadgroup(group: group, consumer: consumer, streams: [stream], count: 50, block: .seconds(2))
                try await handle(fresh)
                backoff = .milliseconds(200)
            } catch {
                logger.warning("event consumer failed; retrying", metadata: ["error": "\(error)", "retry_in": "\(backoff)"])
                let wait = backoff
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: wait) }
                backoff = min(backoff * 2, .seconds(5))
            }
        }
    }

    func handle(_ messages: [RedisStreamMessage]) async throws {
        for message in messages {
            do {
                let event = try decode(message)
                if let event, event.data.status == .succeeded {
                    let records = event.data.images.map { image in
                        ImageRecord(
                            id: image.imageID, generationID: event.data.jobID, userID: event.data.userID, width: image.width,
                            height: image.height, seed: image.seed, prompt: event.data.prompt, negativePrompt: event.data.negativePrompt,
                            model: event.data.model, engine: image.engine, storageKey: image.storageKey, contentType: image.contentType,
                            bytes: image.bytes, visibility: .private, title: nil, tags: [], createdAt: event.data.finishedAt
                        )
                    }
                    let inserted = try await repository.record(records)
                    logger.info(
                        "recorded images", metadata: ["job_id": "\(event.data.jobID)", "user_id": "\(event.data.userID)", "new": "\(inserted)"]
                    )
                }
            } catch let error as WireCodecError {
                logger.error("unreadable event; dead-lettered", metadata: ["message_id": "\(message.id)", "error": "\(error)"])
                _ = try await redis.xadd(
                    Self.deadLetterStream, maxLength: 10_000,
                    fields: [("stream", stream), ("id", message.id), ("reason", "\(error)"), ("m", message.fields["m"] ?? "")]
                )
            }
            _ = try await redis.xack(stream, group: group, ids: [message.id])
        }
    }

    /// The event, or nil for event types this consumer does not handle (acknowledged and skipped).
    func decode(_ message: RedisStreamMessage) throws(WireCodecError) -> Envelope<GenerationCompleted>? {
        guard let body = message.fields["m"] else { throw WireCodecError.missingField("m") }
        let bytes = Array(body.utf8)
        guard try WireCodec.peek(bytes).type == GenerationCompleted.type else { return nil }
        return try WireCodec.decode(GenerationCompleted.self, from: bytes)
    }
}
