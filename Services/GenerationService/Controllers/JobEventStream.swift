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
///
/// While the job waits, a `queued` event without an id is sent whenever its queue position or
/// estimated start changes (looked at every `estimateInterval`, at most one event per look), so a
/// client can show "position 3, about 40 s"; having no id, these never disturb a resume.
struct JobEventStream: Sendable {
    static let terminalID: Int64 = 999_999_999_999
    static let keepAlive = Duration.seconds(15)
    static let estimateInterval = Duration.seconds(1)

    let jobID: JobID
    /// The job as read before subscribing (ownership check); re-read once subscribed.
    let initial: Job
    let messages: AsyncStream<RedisPubSubMessage>
    let lastEventID: Int64?
    let jobs: any JobRepository
    let estimator: QueueEstimator
    let logger: Logger
    var keepAlive: Duration = Self.keepAlive
    var estimateInterval: Duration = Self.estimateInterval

    struct Event {
        /// nil: an update sent without an id (queue position and ETA).
        var id: Int64?
        var name: String
        var data: [UInt8]
        var isTerminal: Bool
    }

    private enum Input: Sendable {
        case message(RedisPubSubMessage)
        case tick
        case estimate
        case end
    }

    func write(to writer: inout any ResponseBodyWriter) async throws {
        var last = lastEventID ?? 0
        // Subscribed by now, so this read cannot miss a change published after it.
        var current = (try? await jobs.job(id: jobID)) ?? initial
        var estimate = await estimator.estimate(for: current)
        let first = try Self.stateEvent(current, estimate: estimate)
        if let id = first.id, id > last {
            try await send(first, to: &writer)
            last = id
        }
        if current.status.isTerminal {
            try await finish(&writer)
            return
        }
        let (inputs, continuation) = AsyncStream.makeStream(of: Input.self)
        let messages = messages
        let keepAlive = keepAlive
        let estimateInterval = estimateInterval
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
                while !Task.isCancelled {
                    try await Task.sleep(for: estimateInterval)
                    continuation.yield(.estimate)
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
                    if let (job, next) = try await self.event(for: message) {
                        if let job { current = job }
                        event = next
                    }
                case .tick:
                    try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                    // Pub/sub may lose a message (a Redis reconnect): the database has the truth.
                    if let job = try? await jobs.job(id: jobID) {
                        current = job
                        event = try Self.stateEvent(job, estimate: await estimator.estimate(for: job))
                    }
                case .estimate:
                    guard current.status == .queued else { continue }
                    let now = await estimator.estimate(for: current)
                    guard let now, Self.changed(estimate, now) else { continue }
                    estimate = now
                    event = Event(id: nil, name: "queued", data: try WireCodec.encodeBody(JobView(job: current, estimate: now)), isTerminal: false)
                case .end:
                    break loop
                }
                guard let event else { continue }
                if let id = event.id {
                    guard id > last else { continue }
                    last = id
                }
                try await send(event, to: &writer)
                if event.isTerminal { break loop }
            }
        }
        continuation.finish()
        try await finish(&writer)
    }

    /// Whether a client should hear of the change: another position, or a start that moved by 2 s
    /// or more and is not "now" anyway (a job at the front with a free worker starts "now" at every
    /// look; that is no news).
    static func changed(_ old: JobEstimate?, _ new: JobEstimate, now: Date = Date()) -> Bool {
        guard let old else { return true }
        if old.position != new.position { return true }
        switch (old.startAt, new.startAt) {
        case (nil, nil): return false
        case (let before?, let after?):
            return abs(before.timeIntervalSince(after)) >= 2 && after.timeIntervalSince(now) > 1
        default: return true
        }
    }

    /// The event for a message on the job's channel (with the job re-read for a status change);
    /// nil for anything else.
    private func event(for message: RedisPubSubMessage) async throws -> (Job?, Event)? {
        guard let header = try? WireCodec.peek(message.payload) else { return nil }
        switch header.type {
        case JobProgress.type:
            guard let progress = try? WireCodec.decode(JobProgress.self, from: message.payload).data else { return nil }
            let step = Int64(min(max(progress.step, 0), 999_990))
            return (nil, Event(
                id: Int64(max(progress.attempt, 1)) * 1_000_000 + 1 + step, name: "progress",
                data: try WireCodec.encodeBody(ProgressData(progress)), isTerminal: false
            ))
        case JobStatusChanged.type:
            // The row is committed before the change is published; it carries the full view.
            guard let job = try await jobs.job(id: jobID) else { return nil }
            return (job, try Self.stateEvent(job, estimate: await estimator.estimate(for: job)))
        default:
            return nil
        }
    }

    /// The event that describes `job`'s current status, with the job's public view as data.
    static func stateEvent(_ job: Job, estimate: JobEstimate? = nil) throws -> Event {
        let base = Int64(max(job.attempt, 1)) * 1_000_000
        let (id, name): (Int64, String) =
            switch job.status {
            case .queued: (base, "queued")
            case .running: (base + 1, "started")
            case .succeeded, .failed, .canceled: (terminalID, job.status.rawValue)
            }
        return Event(id: id, name: name, data: try WireCodec.encodeBody(JobView(job: job, estimate: estimate)), isTerminal: job.status.isTerminal)
    }

    private func send(_ event: Event, to writer: inout any ResponseBodyWriter) async throws {
        var buffer = ByteBuffer(string: event.id.map { "id: \($0)\n" } ?? "")
        buffer.writeString("event: \(event.name)\ndata: ")
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
