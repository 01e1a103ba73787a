import HTTPClient
import Testing

extension CurlHTTPClientTests {
    @Test func streamDeliversChunksAsTheyAreWritten() async throws {
        try await TestServer.with { base in
            try await withClient { client in
                let start = ContinuousClock.now
                let response = try await client.stream(HTTPClientRequest(url: "\(base)/chunks"))
                let headArrived = ContinuousClock.now - start
                #expect(response.status == 200)
                #expect(response[header: "content-type"] == "text/event-stream")

                var received = ""
                var arrivals: [(text: String, at: Duration)] = []
                for try await chunk in response.body {
                    let text = String(decoding: chunk, as: UTF8.self)
                    received += text
                    arrivals.append((text, ContinuousClock.now - start))
                }
                #expect(received == "data: 0\n\ndata: 1\n\ndata: 2\n\n")
                let first = try #require(arrivals.first)
                let last = try #require(arrivals.last)
                #expect(first.text.hasPrefix("data: 0") && !first.text.contains("data: 2"))
                // The server needs 400 ms for the whole body; the head must not wait for it.
                #expect(headArrived + .milliseconds(200) < last.at, "head after \(headArrived), last chunk at \(last.at)")
                // The last chunk is written 400 ms after the first; the first must have arrived well before that.
                #expect(last.at - first.at > .milliseconds(300), "first at \(first.at), last at \(last.at)")
            }
        }
    }

    @Test func slowStreamConsumerPausesTheTransferWithoutLosingBytes() async throws {
        try await TestServer.with { base in
            try await withClient(.init(streamingBufferLimit: 4096)) { client in
                let response = try await client.stream(HTTPClientRequest(url: "\(base)/bytes/2000000"))
                var received: [UInt8] = []
                var chunks = 0
                for try await chunk in response.body {
                    received += chunk
                    chunks += 1
                    if chunks % 50 == 0 { try await Task.sleep(for: .milliseconds(5)) }
                }
                #expect(received.count == 2_000_000)
                #expect(received == (0..<2_000_000).map { UInt8(truncatingIfNeeded: $0 % 251) })
            }
        }
    }

    @Test func streamHeadTimeoutAndCancellation() async throws {
        try await TestServer.with { base in
            try await withClient { client in
                let start = ContinuousClock.now
                let timedOut = await thrownError {
                    try await client.stream(HTTPClientRequest(url: "\(base)/sleep/5000", timeout: .milliseconds(300)))
                }
                #expect(timedOut as? HTTPClientError == .timeout)
                #expect(ContinuousClock.now - start < .seconds(3))

                // Cancelling the consumer while it waits for the next chunk aborts the stream promptly.
                let response = try await client.stream(HTTPClientRequest(url: "\(base)/chunks"))
                let consumer = Task {
                    var chunks = 0
                    for try await _ in response.body { chunks += 1 }
                    return chunks
                }
                // Deliberately between two chunks (the server sends one every 200 ms), not a wait for a condition.
                try await Task.sleep(for: .milliseconds(100))
                let cancelledAt = ContinuousClock.now
                consumer.cancel()
                let error = await thrownError { try await consumer.value }
                #expect(error as? HTTPClientError == .cancelled)
                #expect(ContinuousClock.now - cancelledAt < .seconds(2))

                let after = try await client.execute(HTTPClientRequest(url: "\(base)/echo"))
                #expect(after.status == 200)
            }
        }
    }
}
