import Foundation
import Core
import RedisClient
import TestSupport
import Testing

extension RedisClientTests {
    @Suite("Redis commands", .timeLimit(.minutes(2)))
    struct RedisCommandTests {
        @Test("binary-safe values, integers, nil and server errors round trip")
        func basicCommands() async throws {
            try await Redis.withPool { pool in
                let key = TestStack.uniqueName("bin")
                let value: [UInt8] = [0x00, 0x01, 0xFF, 0x00, 0x7F, 0x0D, 0x0A, 0x00]

                #expect(try await pool.send([Array("SET".utf8), Array(key.utf8), value]) == .status("OK"))
                #expect(try await pool.send("GET", key) == .bulk(value))
                #expect(try await pool.send("STRLEN", key) == .integer(Int64(value.count)))

                let counter = TestStack.uniqueName("n")
                #expect(try await pool.send("INCR", counter).int == 1)
                #expect(try await pool.send("INCRBY", counter, "41").int == 42)
                #expect(try await pool.send("GET", counter).string == "42")
                #expect(try await pool.send("GET", TestStack.uniqueName("missing")) == .null)

                let error = await #expect(throws: RedisError.self) { try await pool.send("INCR", key) }
                #expect(error?.kind == .server("ERR value is not an integer or out of range"))
                #expect(error?.serverCode == "ERR")
                let wrongType = await #expect(throws: RedisError.self) { try await pool.send("LPUSH", key, "x") }
                #expect(wrongType?.serverCode == "WRONGTYPE")

                // The connection stays usable after error replies.
                try await pool.ping()
            }
        }

        @Test("100 commands in one pipeline come back in order; an error in the middle keeps its place")
        func pipeline() async throws {
            try await Redis.withPool(maxConnections: 1) { pool in
                let counter = TestStack.uniqueName("pipe")
                let text = TestStack.uniqueName("text")
                _ = try await pool.send("SET", text, "not a list")

                let commands = (0..<100).map { index in index == 50 ? ["LPUSH", text, "x"] : ["INCR", counter] }
                let replies = try await pool.pipeline(commands)

                #expect(replies.count == 100)
                for (index, reply) in replies.enumerated() where index != 50 {
                    #expect(reply == .integer(Int64(index < 50 ? index + 1 : index)), "reply \(index)")
                }
                guard case .error(let message) = replies[50] else {
                    Issue.record("expected an error reply at 50, got \(replies[50])")
                    return
                }
                #expect(message.hasPrefix("WRONGTYPE"))
                #expect(try await pool.send("GET", counter).int == 99)
            }
        }

        @Test("a full pool makes the next blocking caller fail with poolTimeout while ordinary commands go on; blocking commands outlive the command timeout")
        func poolTimeout() async throws {
            try await Redis.withPool(maxConnections: 2, commandTimeout: .milliseconds(500), acquireTimeout: .milliseconds(200)) { pool in
                let empty = TestStack.uniqueName("empty")

                async let first = pool.send("BLPOP", empty, "1")
                async let second = pool.send("BLPOP", empty, "1")
                // Both connections are taken once the server lists two clients blocked in BLPOP (from
                // here: the Redis suites run one at a time, and nothing else in the tests uses BLPOP).
                try await Redis.withPool(maxConnections: 1) { observer in
                    try await eventually(timeout: .milliseconds(700), "both BLPOPs are blocked on the server") {
                        let clients = try await observer.send("CLIENT", "LIST").string ?? ""
                        return clients.split(separator: "\n").filter { $0.contains(" flags=b ") && $0.contains(" cmd=blpop ") }.count >= 2
                    }
                }

                let clock = ContinuousClock()
                let started = clock.now
                let error = await #expect(throws: RedisError.self) { try await pool.send("BLPOP", empty, "1") }
                #expect(error?.kind == .poolTimeout)
                #expect(clock.now - started < .milliseconds(1200), "gave up before the BLPOPs freed a connection")
                // Ordinary commands never wait for a pooled connection: they share the pipelined one.
                try await pool.ping()

                // BLPOP 1 s with a 500 ms command timeout: the blocking time extends the socket timeout.
                #expect(try await first == .null)
                #expect(try await second == .null)
                try await pool.ping()
            }
        }

        @Test("200 concurrent traced sends on a pool of 4 all succeed, each a span")
        func concurrentTracedSends() async throws {
            final class Sink: SpanSink, @unchecked Sendable {
                let lock = NSLock()
                var names: [String] = []
                func record(_ span: FinishedSpan) { lock.withLock { names.append(span.name) } }
            }
            let sink = Sink()
            Tracing.install(sink)
            defer { Tracing.install(nil) }
            try await Redis.withPool(maxConnections: 4) { pool in
                let counter = TestStack.uniqueName("traced")
                let trace = SpanContext(traceID: String(repeating: "ab", count: 16), spanID: String(repeating: "cd", count: 8), sampled: true)
                let values = try await RequestContext.$traceparent.withValue(trace.traceparent) {
                    try await withThrowingTaskGroup(of: Int64.self) { group in
                        for _ in 0..<200 {
                            group.addTask { try await pool.send("INCR", counter).int ?? -1 }
                        }
                        return try await group.reduce(into: [Int64]()) { $0.append($1) }
                    }
                }
                #expect(values.sorted() == Array(1...200))
            }
            #expect(sink.lock.withLock { sink.names.filter { $0 == "redis INCR" }.count } == 200)
        }

        @Test("200 concurrent sends on a pool of 4 all succeed")
        func concurrentSends() async throws {
            try await Redis.withPool(maxConnections: 4) { pool in
                let counter = TestStack.uniqueName("concurrent")

                let values = try await withThrowingTaskGroup(of: Int64.self) { group in
                    for _ in 0..<200 {
                        group.addTask { try await pool.send("INCR", counter).int ?? -1 }
                    }
                    return try await group.reduce(into: [Int64]()) { $0.append($1) }
                }
                #expect(values.sorted() == Array(1...200))
                #expect(try await pool.send("GET", counter).int == 200)
            }
        }

        @Test("1,000 concurrent commands share one connection and each caller gets its own reply")
        func thousandConcurrentCommandsOnOneConnection() async throws {
            try await Redis.withPool(maxConnections: 4) { pool in
                let counter = TestStack.uniqueName("pipelined")
                let results = try await withThrowingTaskGroup(of: (Int, RedisValue, [RedisValue]).self) { group in
                    for index in 0..<1_000 {
                        group.addTask {
                            // A single command and a batch of three that must stay together and in order.
                            let echoed = try await pool.send("ECHO", "reply-\(index)")
                            let batch = try await pool.pipeline([
                                ["SET", "\(counter):\(index)", "value-\(index)"], ["INCR", counter], ["GET", "\(counter):\(index)"],
                            ])
                            return (index, echoed, batch)
                        }
                    }
                    return try await group.reduce(into: [(Int, RedisValue, [RedisValue])]()) { $0.append($1) }
                }
                #expect(results.count == 1_000)
                var counts: [Int64] = []
                for (index, echoed, batch) in results {
                    #expect(echoed.string == "reply-\(index)")
                    #expect(batch.count == 3)
                    #expect(batch.first == .status("OK"))
                    #expect(batch.last?.string == "value-\(index)", "reply \(index): \(batch)")
                    counts.append(batch.count == 3 ? batch[1].int ?? -1 : -1)
                }
                #expect(counts.sorted() == Array(1...1_000))
                #expect(pool.pooledConnections == 0, "no command needed a connection of its own")
                for index in 0..<1_000 { _ = try await pool.send("DEL", "\(counter):\(index)") }
                _ = try await pool.send("DEL", counter)
            }
        }

        @Test("a closed pool refuses work")
        func closedPool() async throws {
            let pool = try Redis.pool()
            try await pool.ping()
            await pool.close()
            let error = await #expect(throws: RedisError.self) { try await pool.ping() }
            #expect(error?.kind == .poolClosed)
        }
    }
}
