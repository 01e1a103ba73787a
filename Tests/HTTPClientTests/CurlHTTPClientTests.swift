import Core
import HTTPClient
import Logging
import Testing

/// Serialized: the thread-count and timing tests must not share the process with parallel bursts.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct CurlHTTPClientTests {
    @Test func getAndPostRoundTripWithHeaders() async throws {
        try await TestServer.with { base in
            try await withClient { client in
                let get = try await client.execute(HTTPClientRequest(url: "\(base)/echo", headers: ["X-Custom": "hello"]))
                #expect(get.status == 200)
                #expect(get[header: "x-echo-method"] == "GET")
                #expect(get[header: "X-SEEN-CUSTOM"] == "hello")
                #expect(get[header: "x-seen-user-agent"] == "pingvas")
                #expect(get[header: "X-Custom-Response"] == "present")
                #expect(get.body.isEmpty)

                let payload = Array("{\"prompt\":\"a cat\"}".utf8)
                let post = try await client.execute(
                    HTTPClientRequest(method: "POST", url: "\(base)/echo", headers: ["Content-Type": "application/json"], body: payload)
                )
                #expect(post.status == 200)
                #expect(post[header: "X-Echo-Method"] == "POST")
                #expect(post[header: "X-Seen-Content-Type"] == "application/json")
                #expect(post.body == payload)

                // A large body must not wait for a 100-continue, and libcurl's form Content-Type must not appear.
                let large = [UInt8](repeating: 0x61, count: 200_000)
                let put = try await client.execute(HTTPClientRequest(method: "PUT", url: "\(base)/echo", body: large))
                #expect(put[header: "X-Echo-Method"] == "PUT")
                #expect(put[header: "X-Seen-Content-Type"] == nil)
                #expect(put.body == large)
            }
        }
    }

    @Test func requestContextHeadersAreSentAndExplicitHeadersWin() async throws {
        try await TestServer.with { base in
            try await withClient { client in
                let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
                let propagated = try await RequestContext.$requestID.withValue("req-123") {
                    try await RequestContext.$traceparent.withValue(traceparent) {
                        try await client.execute(HTTPClientRequest(url: "\(base)/echo"))
                    }
                }
                #expect(propagated[header: "X-Seen-Request-Id"] == "req-123")
                #expect(propagated[header: "X-Seen-Traceparent"] == traceparent)

                let explicit = try await RequestContext.$requestID.withValue("from-context") {
                    try await client.execute(HTTPClientRequest(url: "\(base)/echo", headers: ["x-request-id": "explicit"]))
                }
                #expect(explicit[header: "X-Seen-Request-Id"] == "explicit")

                let outside = try await client.execute(HTTPClientRequest(url: "\(base)/echo"))
                #expect(outside[header: "X-Seen-Request-Id"] == nil)
                #expect(outside[header: "X-Seen-Traceparent"] == nil)
            }
        }
    }

    @Test func slowResponseTimesOut() async throws {
        try await TestServer.with { base in
            try await withClient { client in
                let start = ContinuousClock.now
                let error = await thrownError {
                    try await client.execute(HTTPClientRequest(url: "\(base)/sleep/5000", timeout: .milliseconds(300)))
                }
                let elapsed = ContinuousClock.now - start
                #expect(error as? HTTPClientError == .timeout)
                #expect(elapsed < .seconds(3), "timed out after \(elapsed), not at the 300 ms limit")
            }
        }
    }

    @Test func errorStatusesAreReturnedWithTheirBody() async throws {
        try await TestServer.with { base in
            try await withClient { client in
                let notFound = try await client.execute(HTTPClientRequest(url: "\(base)/status/404"))
                #expect(notFound.status == 404)
                #expect(notFound.bodyText == "status body 404")
                #expect(throws: HTTPClientError.status(404, "status body 404")) { try notFound.ensureSuccess() }

                let serverError = try await client.execute(HTTPClientRequest(url: "\(base)/status/500"))
                #expect(serverError.status == 500)
                #expect(serverError.bodyText == "status body 500")
                #expect(throws: HTTPClientError.status(500, "status body 500")) { try serverError.ensureSuccess() }

                let ok = try await client.execute(HTTPClientRequest(url: "\(base)/status/204"))
                #expect(ok.status == 204)
                #expect(throws: Never.self) { try ok.ensureSuccess() }
            }
        }
    }

    @Test func refusedConnectionIsConnectionFailed() async throws {
        try await withClient { client in
            // Port 1 on loopback: nothing listens there, so the kernel refuses at once.
            let error = await thrownError { try await client.execute(HTTPClientRequest(url: "http://127.0.0.1:1/")) }
            guard case .connectionFailed(let detail)? = error as? HTTPClientError else {
                Issue.record("expected .connectionFailed, got \(String(describing: error))")
                return
            }
            #expect(!detail.isEmpty)
        }
    }

    @Test func invalidRequestsAreRejectedBeforeSending() async throws {
        try await withClient { client in
            await #expect(throws: HTTPClientError.invalidURL) { try await client.execute(HTTPClientRequest(url: "ftp://127.0.0.1/file")) }
            await #expect(throws: HTTPClientError.invalidURL) { try await client.execute(HTTPClientRequest(url: "http://exa mple.com/")) }
            let injected = await thrownError {
                try await client.execute(HTTPClientRequest(url: "http://127.0.0.1:1/", headers: ["Authorization": "Bearer secret\r\nX-Evil: 1"]))
            }
            guard case .invalidRequest(let detail)? = injected as? HTTPClientError else {
                Issue.record("expected .invalidRequest, got \(String(describing: injected))")
                return
            }
            #expect(!detail.contains("secret"))
        }
    }

    @Test func sequentialRequestsReuseTheConnection() async throws {
        try await TestServer.with { base in
            try await withClient { client in
                let first = try await client.execute(HTTPClientRequest(url: "\(base)/echo"))
                #expect(first.newConnections == 1)
                for _ in 0..<5 {
                    let next = try await client.execute(HTTPClientRequest(url: "\(base)/echo"))
                    #expect(next.status == 200)
                    #expect(next.newConnections == 0)
                }
            }
        }
    }

    @Test func shutdownFailsInFlightAndLaterRequests() async throws {
        try await TestServer.with { base in
            let client = CurlHTTPClient(logger: .init(label: "http-client-test"))
            let slow = Task { try await client.execute(HTTPClientRequest(url: "\(base)/sleep/5000")) }
            // Time for the request to get in flight (this target has no `eventually`, and nothing
            // shows the transfer has started).
            try await Task.sleep(for: .milliseconds(200))
            await client.shutdown()
            let inFlight = await thrownError { try await slow.value }
            #expect(inFlight as? HTTPClientError == .shutdown)
            await #expect(throws: HTTPClientError.shutdown) { try await client.execute(HTTPClientRequest(url: "\(base)/echo")) }
            await client.shutdown()  // idempotent
        }
    }
}
