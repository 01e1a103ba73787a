import Core
import Foundation
import HTTPClient
import Hummingbird
import HummingbirdTesting
import Logging
import Synchronization
import TestSupport
import Testing
@testable import GatewayService

/// Event streams through the gateway: their own connection budget, and a limit per caller.
@Suite(.timeLimit(.minutes(2))) struct GatewayStreamTests {
    /// Streams the upstream holds open right now.
    final class OpenStreams: Sendable {
        private let count = Mutex(0)
        var value: Int { count.withLock { $0 } }
        func change(by delta: Int) { count.withLock { $0 += delta } }
    }

    /// An upstream whose `.../events` streams stay open (a comment every 100 ms, so a closed
    /// downstream is noticed) until the gateway hangs up; every other GET answers at once.
    static func upstream(_ open: OpenStreams) -> some ApplicationProtocol {
        let router = Router()
        router.get("/internal/jwks") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: try testJWKS())))
        }
        router.on("/api/**", method: .get) { request, _ -> Response in
            guard request.uri.path.hasSuffix("/events") else {
                return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: "{\"items\":[]}")))
            }
            return Response(status: .ok, headers: [.contentType: "text/event-stream"], body: ResponseBody { writer in
                open.change(by: 1)
                defer { open.change(by: -1) }
                try await writer.write(ByteBuffer(string: ": open\n\n"))
                while true {
                    try await Task.sleep(for: .milliseconds(100))
                    try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                }
            })
        }
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }

    static func withClient<T>(_ body: (CurlHTTPClient) async throws -> T) async throws -> T {
        let client = CurlHTTPClient(configuration: .init(maxConnectionsPerHost: 256, maxTotalConnections: 256), logger: .init(label: "test"))
        do {
            let result = try await body(client)
            await client.shutdown()
            return result
        } catch {
            await client.shutdown()
            throw error
        }
    }

    static func problemType(_ response: HTTPClientResponse) -> String? {
        (try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])?["type"] as? String
    }

    @Test func streamsOfOneUserNeitherStarveOtherRequestsNorExceedTheLimit() async throws {
        let open = OpenStreams()
        let user = UserID()
        let token = try await GatewayProxyTests.token(plan: .studio, userID: user)
        let other = try await GatewayProxyTests.token(plan: .studio)
        try await Self.upstream(open).test(.live) { upstream in
            let gateway = try await GatewayProxyTests.gateway(
                upstreamPort: upstream.port!, extra: ["PINGVAS_UPSTREAM_TIMEOUT": "10s", "PINGVAS_RATE_LIMIT_PER_IP": "100000"]
            )
            try await gateway.test(.live) { gateway in
                let base = "http://127.0.0.1:\(gateway.port!)"
                let limit = 64
                func events(_ token: String) -> HTTPClientRequest {
                    HTTPClientRequest(
                        url: "\(base)/api/v1/generations/\(UUID())/events",
                        headers: ["Authorization": "Bearer \(token)", "Accept": "text/event-stream"], timeout: .seconds(20))
                }
                try await Self.withClient { streamsClient in
                    try await Self.withClient { plain in
                        // Plain requests before any stream: what this machine's load alone costs them.
                        func medianOfFive() async throws -> (Duration, [Duration]) {
                            var times: [Duration] = []
                            for _ in 0..<5 {
                                let started = ContinuousClock.now
                                let response = try await plain.execute(HTTPClientRequest(
                                    url: "\(base)/api/v1/models", headers: ["Authorization": "Bearer \(token)"], timeout: .seconds(5)))
                                times.append(ContinuousClock.now - started)
                                #expect(response.status == 200)
                            }
                            return (times.sorted()[times.count / 2], times)
                        }
                        let (quiet, _) = try await medianOfFive()

                        // 64 streams of one user, each answered (its head through) and open at the upstream.
                        var held = try await withThrowingTaskGroup(of: HTTPClientStreamingResponse.self) { group in
                            for _ in 0..<limit { group.addTask { try await streamsClient.stream(events(token)) } }
                            return try await group.reduce(into: [HTTPClientStreamingResponse]()) { $0.append($1) }
                        }
                        #expect(held.allSatisfy { $0.status == 200 })
                        try await eventually(timeout: .seconds(20), "\(limit) streams open at the upstream (now \(open.value))") { open.value == limit }

                        // A plain request meanwhile is answered at once: the median of five under 100 ms, or, on a
                        // machine so loaded that requests without any stream are slow too, within 3x of that median.
                        // (Queued behind the streams, as before the stream budget, it would wait for its timeout.)
                        let (median, times) = try await medianOfFive()
                        #expect(median < max(.milliseconds(100), quiet * 3), "plain requests took \(times) with \(limit) streams open, \(quiet) without")

                        // The 65th stream of the same user: 429 too-many-streams with Retry-After.
                        let refused = try await plain.execute(events(token))
                        #expect(refused.status == 429)
                        #expect(refused[header: "content-type"] == "application/problem+json")
                        #expect(Self.problemType(refused) == "https://pingvas.studio/problems/too-many-streams")
                        #expect(refused[header: "retry-after"].flatMap(Int.init).map { $0 > 0 } == true)
                        #expect(open.value == limit, "the refused stream never reached the upstream")

                        // Another user still gets a stream.
                        held.append(try await streamsClient.stream(events(other)))
                        #expect(held.last?.status == 200)

                        // Closing the streams gives their places back: the first user may open one again.
                        held.removeAll()
                        try await eventually(timeout: .seconds(20), "streams closed at the upstream (open: \(open.value))") { open.value == 0 }
                        try await eventually(timeout: .seconds(10), "a stream allowed again") {
                            let again = try await streamsClient.stream(events(token))
                            return again.status == 200
                        }
                    }
                }
            }
        }
    }

    @Test func theGatewayWideStreamBudgetAnswers503() async throws {
        let open = OpenStreams()
        try await Self.upstream(open).test(.live) { upstream in
            let gateway = try await GatewayProxyTests.gateway(
                upstreamPort: upstream.port!, extra: ["PINGVAS_UPSTREAM_TIMEOUT": "10s", "PINGVAS_RATE_LIMIT_PER_IP": "100000", "PINGVAS_GATEWAY_MAX_STREAMS": "2"]
            )
            try await gateway.test(.live) { gateway in
                let base = "http://127.0.0.1:\(gateway.port!)"
                try await Self.withClient { client in
                    var held: [HTTPClientStreamingResponse] = []
                    for _ in 0..<2 {
                        let token = try await GatewayProxyTests.token(plan: .studio)
                        held.append(try await client.stream(HTTPClientRequest(
                            url: "\(base)/api/v1/generations/\(UUID())/events", headers: ["Authorization": "Bearer \(token)"], timeout: .seconds(20))))
                    }
                    #expect(held.map(\.status) == [200, 200])
                    let token = try await GatewayProxyTests.token(plan: .studio)
                    let refused = try await client.execute(HTTPClientRequest(
                        url: "\(base)/api/v1/generations/\(UUID())/events", headers: ["Authorization": "Bearer \(token)"], timeout: .seconds(20)))
                    #expect(refused.status == 503)
                    #expect(Self.problemType(refused) == "https://pingvas.studio/problems/too-many-streams")
                    #expect(refused[header: "retry-after"] != nil)
                    held.removeAll()
                    try await eventually(timeout: .seconds(20), "streams closed at the upstream") { open.value == 0 }
                }
            }
        }
    }

    @Test func streamLimiterCountsPerCallerAndInAll() {
        let limiter = StreamLimiter(perCaller: 2, total: 3)
        var leases: [StreamLease] = []
        leases.append(try! limiter.acquire("a").get())
        leases.append(try! limiter.acquire("a").get())
        #expect(throws: StreamLimiter.Refusal.perCaller(limit: 2)) { try limiter.acquire("a").get() }
        leases.append(try! limiter.acquire("b").get())
        #expect(throws: StreamLimiter.Refusal.total(limit: 3)) { try limiter.acquire("c").get() }
        leases.removeFirst()
        #expect(limiter.openStreams(of: "a") == 1)
        #expect(limiter.openStreams == 2)
        leases.removeAll()
        #expect(limiter.openStreams == 0)
    }
}
