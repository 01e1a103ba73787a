import HTTPClient

/// N workers, one connection each, sending back to back until the time is up.
struct LoadRun: Sendable {
    let http: CurlHTTPClient
    let url: String
    let bodies: BodyFactory
    /// Added to worker numbers so warm-up bodies never repeat measured ones.
    let workerOffset: Int

    struct Result: Sendable {
        /// Answered 200 with `"duplicate":false`: a new stored delivery.
        var stored = 0
        var duplicates = 0
        var failures = 0
        /// Answer times of the 200s, in milliseconds.
        var latencies: [Double] = []
        var elapsed: Double = 0
        var statuses: [Int: Int] = [:]
    }

    func run(connections: Int, for duration: Duration) async -> Result {
        let start = ContinuousClock.now
        let deadline = start + duration
        var total = await withTaskGroup(of: Result.self) { group in
            for worker in 0..<connections {
                group.addTask { await self.worker(worker + workerOffset, until: deadline) }
            }
            var total = Result()
            for await part in group {
                total.stored += part.stored
                total.duplicates += part.duplicates
                total.failures += part.failures
                total.latencies += part.latencies
                total.statuses.merge(part.statuses, uniquingKeysWith: +)
            }
            return total
        }
        total.elapsed = BodyFactory.seconds(ContinuousClock.now - start)
        return total
    }

    private func worker(_ worker: Int, until deadline: ContinuousClock.Instant) async -> Result {
        var result = Result()
        result.latencies.reserveCapacity(4096)
        var sequence = 0
        while ContinuousClock.now < deadline {
            let (body, signature) = bodies.make(worker: worker, sequence: sequence)
            sequence += 1
            let sent = ContinuousClock.now
            do {
                let response = try await http.execute(
                    HTTPClientRequest(
                        method: "POST", url: url,
                        headers: ["Content-Type": "application/json", "X-Event-Name": "order_created", "X-Signature": signature], body: body
                    )
                )
                let milliseconds = BodyFactory.seconds(ContinuousClock.now - sent) * 1000
                result.statuses[response.status, default: 0] += 1
                if response.status == 200 {
                    result.latencies.append(milliseconds)
                    if response.body.count < 64, String(decoding: response.body, as: UTF8.self).contains("\"duplicate\":false") {
                        result.stored += 1
                    } else {
                        result.duplicates += 1
                    }
                } else {
                    result.failures += 1
                }
            } catch {
                result.failures += 1
                result.statuses[0, default: 0] += 1
            }
        }
        return result
    }
}
