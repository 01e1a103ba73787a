import Core
import Foundation
import Hummingbird
import Logging
import RedisClient
import ServiceLifecycle

/// One client's server-sent event stream of a job.
///
/// Event ids are derived from the job's life, not counted per connection, so they mean the same on
/// every replica and every reconnect: for attempt `a`, `queued` is `a·10⁶`, `started` `a·10⁶+1`, progress
/// step `s` is `a·10⁶+1+s`, and the terminal event is `terminalID`. An event whose id is not above the
/// last one sent (or the client's `Last-Event-ID`) is skipped: a reconnecting client does not get the
/// current state again when it already saw it or something later, and never sees a duplicate.
/// The stream ends after the terminal event.
struct JobEventStream: Sendable {
    static let terminalID: Int64 = 999_999_999_999
    static let keepAlive = Duration.seconds(15)

    let jobID: JobID
    /// The job as read before subscribing (ownership check); re-read once subscribed.
    let initial: Job
    let messages: AsyncStream<RedisPubSubMessage>
    let lastEventID: Int64?
    let jobs: any JobRepository
    let logger: Logger
    var keepAlive: Duration = Self.keepAlive

    struct Event {
        var id: Int64
        var name: String
        var data: [UInt8]
        var isTerminal: Bool
    }

    private enum Input: Sendable {
        case message(RedisPubSubMessage)
        case tick
        case end
    }

    func write(to writer: inout any ResponseBodyWriter) async throws {
        var last = lastEventID ?? 0
        // Subscribed by now, so this read cannot miss a change published after it.
        let current = (try? await jobs.job(id: jobID)) ?? initial
        let first = try Self.stateEvent(current)
        if first.id > last {
            try await send(first, to: &writer)
            last = first.id
        }
        if current.status.isTerminal {
            try await finish(&writer)
            return
        }
        let (inputs, continuation) = AsyncStream.makeStream(of: Input.self)
        let messages = messages
        let keepAlive = keepAlive
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await message in messages { continuation.yield(.message(message)) }
                continuation.yield(.end)
            }
            group.addTask {
                while !Task.isCancelled {
                    try await Task.sleep(for: keepAlive)
                    continuation.yield(.tick)
                }
            }
            group.addTask {
                // A graceful shutdown ends open streams, so the server can drain; clients reconnect.
                try? await gracefulShutdown()
                continuation.yield(.end)
            }
            defer { group.cancelAll() }
            loop: for await input in inputs {
                var event: Event?
                switch input {
                case .message(let message):
                    event = try await self.event(for: message)
                case .tick:
                    try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                    // Pub/sub may lose a message (a Redis reconnect): the database has the truth.
                    if let job = try? await jobs.job(id: jobID) { event = try Self.stateEvent(job) }
                case .end:
                    break loop
                }
                guard let event, event.id > last else { continue }
                try await send(event, to: &writer)
                last = event.id
                if event.isTerminal { break loop }
            }
        }
        continuation.finish()
        try await finish(&writer)
    }

    /// The event for a message on the job's channel; nil for anything else.
    private func event(for message: RedisPubSubMessage) async throws -> Event? {
        guard let header = try? WireCodec.peek(message.payload) else { return nil }
        switch header.type {
        case JobProgress.type:
            guard let progress = try? WireCodec.decode(JobProgress.self, from: message.payload).data else { return nil }
            let step = Int64(min(max(progress.step, 0), 999_990))
            return Event(
                id: Int64(max(progress.attempt, 1)) * 1_000_000 + 1 + step, name: "progress",
                data: try WireCodec.encodeBody(ProgressData(progress)), isTerminal: false
            )
        case JobStatusChanged.type:
            // The row is committed before the change is published; it carries the full view.
            guard let job = try await jobs.job(id: jobID) else { return nil }
            return try Self.stateEvent(job)
        default:
            return nil
        }
    }

    /// The event that describes `job`'s current status, with the job's public view as data.
    static func stateEvent(_ job: Job) throws -> Event {
        let base = Int64(max(job.attempt, 1)) * 1_000_000
        let (id, name): (Int64, String) =
            switch job.status {
            case .queued: (base, "queued")
            case .running: (base + 1, "started")
            case .succeeded, .failed, .canceled: (terminalID, job.status.rawValue)
            }
        return Event(id: id, name: name, data: try WireCodec.encodeBody(JobView(job: job)), isTerminal: job.status.isTerminal)
    }

    private func send(_ event: Event, to writer: inout any ResponseBodyWriter) async throws {
        var buffer = ByteBuffer(string: "id: \(event.id)\nevent: \(event.name)\ndata: ")
        buffer.writeBytes(event.data)
        buffer.writeString("\n\n")
        try await writer.write(buffer)
    }

    private func finish(_ writer: inout any ResponseBodyWriter) async throws {
        try await writer.finish(nil)
    }
}

/// `data` of a `progress` event.
struct ProgressData: Encodable {
    var id: JobID
    var attempt: Int
    var step: Int
    var total: Int
    var imageIndex: Int?
    var preview: String?

    init(_ progress: JobProgress) {
        id = progress.jobID
        attempt = progress.attempt
        step = progress.step
        total = progress.totalSteps
        imageIndex = progress.imageIndex
        preview = progress.preview
    }

    enum CodingKeys: String, CodingKey {
        case id, attempt, step, total, preview
        case imageIndex = "image_index"
    }
}
