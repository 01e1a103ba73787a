import Core
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Metrics
import RedisClient
import ServiceKit
import Synchronization

extension HTTPField.Name {
    static let lastEventID = HTTPField.Name("Last-Event-ID")!
    static let accelBuffering = HTTPField.Name("X-Accel-Buffering")!
}

extension JobController {
    /// `GET /api/v1/generations/{id}/events`: the job's events as server-sent events.
    ///
    /// Subscribes to `pingvas:job:<id>` (on the process's one shared subscriber) before reading the
    /// job, so nothing published in between is missed; any replica can serve any job.
    @Sendable func events(_ request: Request, context: ServiceRequestContext) async throws -> Response {
        let caller = try CallerIdentity.require(request)
        let owned = try await ownedJob(context, caller)
        let lastEventID = request.headers[.lastEventID].flatMap { Int64($0.trimmingCharacters(in: .whitespaces)) }
        let messages: AsyncStream<RedisPubSubMessage>
        do {
            messages = try await subscriber.subscribe([keys.jobChannel(owned.id)])
        } catch {
            context.logger.warning("could not subscribe to job events", metadata: ["job_id": "\(owned.id)", "error": "\(error)"])
            throw Problem.unavailable("Live events are unavailable right now; try again later.", type: "dependency-unavailable")
        }
        let stream = JobEventStream(
            jobID: owned.id, initial: owned, messages: messages, lastEventID: lastEventID, jobs: jobs, estimator: estimator,
            logger: context.logger
        )
        return Response(
            status: .ok,
            headers: [.contentType: "text/event-stream", .cacheControl: "no-cache", .accelBuffering: "no"],
            body: ResponseBody { writer in
                EventStreamGauge.opened()
                defer { EventStreamGauge.closed() }
                try await stream.write(to: &writer)
            }
        )
    }
}

/// `pingvas_event_streams_open`: job event streams this process is serving now.
enum EventStreamGauge {
    private static let open = Atomic<Int>(0)
    private static let gauge = Gauge(label: "pingvas_event_streams_open")

    static func opened() { gauge.record(open.add(1, ordering: .relaxed).newValue) }
    static func closed() { gauge.record(open.subtract(1, ordering: .relaxed).newValue) }
}
