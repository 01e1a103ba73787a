import HTTPClient
import Testing

extension CurlHTTPClientTests {
    @Test func twoHundredConcurrentRequestsShareOneLoopThread() async throws {
        try await TestServer.with { base in
            try await withClient { client in
                _ = try await client.execute(HTTPClientRequest(url: "\(base)/echo"))  // server and loop warmed up
                let baseline = try currentThreadCount()
                let sampler = ThreadSampler(baseline: baseline)

                let started = ContinuousClock.now
                let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                    group.addTask {
                        while !sampler.isDone {
                            sampler.record((try? currentThreadCount()) ?? 0)
                            try await Task.sleep(for: .milliseconds(20))
                        }
                        return -1
                    }
                    var requests = [Task<Int, any Error>]()
                    for _ in 0..<200 {
                        requests.append(Task { try await client.execute(HTTPClientRequest(url: "\(base)/sleep/200")).status })
                    }
                    var statuses: [Int] = []
                    for request in requests { statuses.append(try await request.value) }
                    sampler.finish()
                    try await group.waitForAll()
                    return statuses
                }

                let elapsed = ContinuousClock.now - started
                #expect(statuses.count == 200)
                #expect(statuses.allSatisfy { $0 == 200 })
                // 200 requests of 200 ms each: served one after another they would take 40 s.
                #expect(elapsed < .seconds(10), "the requests did not run concurrently: \(elapsed)")
                // Other suites run in this process at the same time and start threads of their own
                // (each Redis pool's I/O thread, engine readers), so the count is noisy (156 extra seen
                // in a full run); a thread per request would add at least 200 on top of that noise.
                let peakThreads = sampler.peak
                #expect(peakThreads - baseline < 200, "peak \(peakThreads) threads, baseline \(baseline)")
            }
        }
    }

    @Test func cancellingAWaitingTaskThrowsCancelledPromptly() async throws {
        try await TestServer.with { base in
            try await withClient { client in
                let slow = Task { try await client.execute(HTTPClientRequest(url: "\(base)/sleep/5000")) }
                // Time for the request to get in flight (this target has no `eventually`, and nothing
                // shows the transfer has started); a cancel that comes earlier is `.cancelled` too.
                try await Task.sleep(for: .milliseconds(200))
                let start = ContinuousClock.now
                slow.cancel()
                let error = await thrownError { try await slow.value }
                let elapsed = ContinuousClock.now - start
                #expect(error as? HTTPClientError == .cancelled)
                // The server answers after 5 s; a cancelled call must not wait for that (margin for a loaded CI machine).
                #expect(elapsed < .seconds(3), "cancellation took \(elapsed)")

                // Cancelled before it was even submitted.
                let early = Task {
                    withUnsafeCurrentTask { $0?.cancel() }
                    return try await client.execute(HTTPClientRequest(url: "\(base)/echo"))
                }
                #expect(await thrownError { try await early.value } as? HTTPClientError == .cancelled)

                let after = try await client.execute(HTTPClientRequest(url: "\(base)/echo", headers: ["X-Custom": "still works"]))
                #expect(after[header: "X-Seen-Custom"] == "still works")
            }
        }
    }
}
