package import Core
package import Logging
package import RedisClient
package import ServiceLifecycle

/// The consuming side of an integration-event stream, shared by the services that read one
/// (gallery: `generation.completed`; user: `plan.changed`).
///
/// `run` creates the consumer group (from `0`, and again after Redis lost it), first claims messages
/// a dead consumer left pending longer than `lease`, then reads new ones, handing each batch to the
/// caller, who acknowledges what it has applied. Failures back off from 200 ms to 5 s. A message
/// that can never be read goes to the dead-letter stream with the reason (`deadLetter`).
package struct EventStreamReader: Sendable {
    package let redis: RedisPool
    package let stream: String
    package let group: String
    package let consumer: String
    package let lease: Duration
    /// How long one read waits for new messages.
    package let block: Duration
    /// Where unreadable messages go (`PipelineKeys.eventsDeadLetter`).
    package let deadLetterStream: String

    /// False until the consumer may apply messages (e.g. its migrations are applied).
    package let ready: @Sendable () -> Bool
    package let logger: Logger

    package init(
        redis: RedisPool, stream: String, group: String, consumer: String = ServiceConfiguration.instanceName, lease: Duration,
        block: Duration = .seconds(1), deadLetterStream: String, ready: @escaping @Sendable () -> Bool = { true }, logger: Logger
    ) {
        self.redis = redis
        self.stream = stream
        self.group = group
        self.consumer = consumer
        self.deadLetterStream = deadLetterStream
        self.lease = lease
        self.block = block
        self.ready = ready
        self.logger = logger
    }

    /// Until cancelled or shutting down: waits for `ready`, then hands claimed and new messages to
    /// `handle`.
    package func run(handle: ([RedisStreamMessage]) async throws -> Void) async {
        var backoff = Duration.milliseconds(200)
        var groupReady = false
        while !Background.shouldStop {
            guard ready() else {
                await Background.pause(.milliseconds(50))
                continue
            }
            do {
                if !groupReady {
                    try await redis.xgroupCreate(stream, group: group, startID: "0")
                    groupReady = true
                }
                let claimed = try await redis.xautoclaim(stream, group: group, consumer: consumer, minIdle: lease, count: 50)
                try await handle(claimed.messages)
                let fresh = try await redis.xreadgroup(group: group, consumer: consumer, streams: [stream], count: 50, block: block)
                try await handle(fresh)
                backoff = .milliseconds(200)
            } catch {
                if let error = error as? RedisError, error.serverCode == "NOGROUP" { groupReady = false }
                logger.warning("event consumer failed; retrying", metadata: ["stream": "\(stream)", "error": "\(error)", "retry_in": "\(backoff)"])
                await Background.pause(backoff)
                backoff = min(backoff * 2, .seconds(5))
            }
        }
    }

    /// The message's envelope (field `m`) when it is of type `type`; nil for the stream's other
    /// event types (the caller acknowledges and skips those).
    package static func decode<Event: WireMessage>(_ type: Event.Type, _ message: RedisStreamMessage) throws(WireCodecError) -> Envelope<Event>? {
        guard let body = message.fields["m"] else { throw WireCodecError.missingField("m") }
        let bytes = Array(body.utf8)
        guard try WireCodec.peek(bytes).type == Event.type else { return nil }
        return try WireCodec.decode(Event.self, from: bytes)
    }

    /// Hands each message of type `Event` in `messages` to `apply`, then acknowledges it; a message
    /// of another type is acknowledged and skipped, one that cannot be read is dead-lettered and
    /// acknowledged. When `apply` throws, that message and the rest stay unacknowledged, to be
    /// claimed again after `lease`.
    package func each<Event: WireMessage>(
        _ type: Event.Type, in messages: [RedisStreamMessage], _ apply: (Envelope<Event>) async throws -> Void
    ) async throws {
        for message in messages {
            do {
                if let event = try Self.decode(type, message) { try await apply(event) }
            } catch let error as WireCodecError {
                try await deadLetter(message, reason: error)
            }
            try await acknowledge([message.id])
        }
    }

    /// Acknowledges messages the consumer has applied (or skipped).
    package func acknowledge(_ ids: [String]) async throws {
        guard !ids.isEmpty else { return }
        try await redis.xack(stream, group: group, ids: ids)
    }

    /// Keeps an unreadable message on the dead-letter stream with the reason; the caller acknowledges it.
    package func deadLetter(_ message: RedisStreamMessage, reason: any Error) async throws {
        logger.error("unreadable event; dead-lettered", metadata: ["stream": "\(stream)", "message_id": "\(message.id)", "error": "\(reason)"])
        _ = try await redis.xadd(
            deadLetterStream, maxLength: 10_000,
            fields: [("stream", stream), ("id", message.id), ("reason", "\(reason)"), ("m", message.fields["m"] ?? "")]
        )
    }

}

/// A lifecycle service that applies the messages of one event stream through its `reader`.
package protocol EventStreamConsumer: Service {
    var reader: EventStreamReader { get }
    /// Applies a batch; acknowledges (through `reader`) what it applied, skipped or dead-lettered.
    func handle(_ messages: [RedisStreamMessage]) async throws
}

extension EventStreamConsumer {
    package func run() async throws {
        await reader.run { try await handle($0) }
    }
}
