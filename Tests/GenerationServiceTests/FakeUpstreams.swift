import Core
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ServiceLifecycle
import Synchronization

/// Fake user and model-router: a real Hummingbird server on 127.0.0.1 serving the internal routes of
/// docs/pipeline.md and recording every call.
///
/// Routing: model `unknown` → 422 `unknown-model`; width above 2048 → 422 `validation-failed` with
/// `errors.width`; otherwise queue `preview`, cost 7 per image. Holds fail with 402 for users in `poor`,
/// and with 402 `credits-debt` (debt 40) for users in `indebted`. `POST /hooks/...` is a customer's
/// webhook receiver: it records the host the request named and answers 204.
final class FakeUpstreams: Sendable {
    struct Calls: Sendable {
        var routes: [RouteRequest] = []
        var holds: [CreditHoldRequest] = []
        /// `(job id, "capture" | "release")` in arrival order.
        var settlements: [(JobID, String)] = []
        /// The `Host` of each webhook received, in arrival order.
        var webhookHosts: [String] = []
    }

    let calls = Mutex(Calls())
    let poor = Mutex<Set<UserID>>([])
    let indebted = Mutex<Set<UserID>>([])
    let url: String
    private let task: Task<Void, any Error>

    private init(url: String, task: Task<Void, any Error>) {
        self.url = url
        self.task = task
    }

    static func start() async throws -> FakeUpstreams {
        let box = FakeUpstreamsBox()
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        var logger = Logger(label: "fake-upstreams")
        logger.logLevel = .critical
        let app = Application(
            router: makeRouter(box),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                portContinuation.yield(channel.localAddress?.port ?? 0)
                portContinuation.finish()
            },
            logger: logger
        )
        let task = Task { try await app.runService(gracefulShutdownSignals: []) }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else {
            task.cancel()
            throw FakeUpstreamsError.didNotStart
        }
        let fakes = FakeUpstreams(url: "http://127.0.0.1:\(port)", task: task)
        box.fakes.withLock { $0 = fakes }
        return fakes
    }

    func stop() { task.cancel() }

    func settlements(of job: JobID) -> [String] {
        calls.withLock { $0.settlements.filter { $0.0 == job }.map(\.1) }
    }

    func holds(of job: JobID) -> [CreditHoldRequest] {
        calls.withLock { $0.holds.filter { $0.jobID == job } }
    }

    private static func makeRouter(_ box: FakeUpstreamsBox) -> Router<BasicRequestContext> {
        let router = Router()
        router.post("/internal/route") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            let route = try WireCodec.decodeBody(RouteRequest.self, from: Array(buffer: body))
            box.fakes.withLock { $0 }?.calls.withLock { $0.routes.append(route) }
            if route.request.model == "unknown" {
                return problem(422, type: "unknown-model", extra: ["model": "unknown"])
            }
            if route.request.width > 2048 {
                return problem(422, type: "validation-failed", extra: ["errors": ["width": "must be at most 2048"]])
            }
            var answer = RouteResponse(queue: "preview", cost: Credits(7 * Int64(route.request.batchSize)), modelFamily: "preview", estimatedSeconds: 1)
            if route.request.style == "loud" {  // what model-router answers for a style (RouteTests check the real one)
                answer.styledPrompt = route.request.prompt.uppercased() + "!"
                answer.styledNegativePrompt = "quiet"
                answer.sampler = "euler"
            }
            return json(200, try WireCodec.encodeBody(answer))
        }
        router.post("/internal/credits/holds") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            let hold = try WireCodec.decodeBody(CreditHoldRequest.self, from: Array(buffer: body))
            guard let fakes = box.fakes.withLock({ $0 }) else { return problem(500, type: "internal") }
            fakes.calls.withLock { $0.holds.append(hold) }
            if fakes.poor.withLock({ $0.contains(hold.userID) }) {
                return problem(402, type: "insufficient-credits")
            }
            if fakes.indebted.withLock({ $0.contains(hold.userID) }) {
                return problem(402, type: "credits-debt", extra: ["debt": 40, "balance": 0])
            }
            return json(200, try WireCodec.encodeBody(CreditHoldResponse(holdID: "hold-\(hold.jobID)", balance: 100)))
        }
        router.post("/internal/credits/holds/{job}/{action}") { _, context -> Response in
            guard let job = context.parameters.get("job").flatMap(JobID.init), let action = context.parameters.get("action"),
                  ["capture", "release"].contains(action)
            else { return problem(404, type: "not-found") }
            box.fakes.withLock { $0 }?.calls.withLock { $0.settlements.append((job, action)) }
            return json(200, Array(#"{"status":"\#(action)d","balance":100}"#.utf8))
        }
        router.post("/hooks/{name}") { request, _ -> Response in
            box.fakes.withLock { $0 }?.calls.withLock { $0.webhookHosts.append(request.head.authority ?? "") }
            return Response(status: .noContent)
        }
        return router
    }

    private static func json(_ status: Int, _ bytes: [UInt8]) -> Response {
        Response(
            status: .init(code: status), headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes))
        )
    }

    private static func problem(_ status: Int, type: String, extra: [String: Any] = [:]) -> Response {
        var object: [String: Any] = ["type": "https://pingvas.studio/problems/\(type)", "title": type, "status": status, "detail": type]
        object.merge(extra) { _, new in new }
        let data = (try? JSONSerialization.data(withJSONObject: object)) ?? Data()
        return Response(
            status: .init(code: status), headers: [.contentType: "application/problem+json"],
            body: .init(byteBuffer: ByteBuffer(bytes: Array(data)))
        )
    }
}

/// Lets the router reach the `FakeUpstreams` that is created after it.
final class FakeUpstreamsBox: Sendable {
    let fakes = Mutex<FakeUpstreams?>(nil)
}

enum FakeUpstreamsError: Error { case didNotStart }
