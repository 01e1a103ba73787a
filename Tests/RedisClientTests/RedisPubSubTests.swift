import RedisClient
import TestSupport
import Testing

extension RedisClientTests {
    @Suite("Redis pub/sub", .timeLimit(.minutes(2)))
    struct RedisPubSubTests {
        @Test("subscribe receives published messages in order; psubscribe reports the pattern")
        func subscribeAndPattern() async throws {
            let subscriber = try Redis.subscriber()
            try await Redis.withPool { pool in
                let channel = TestStack.uniqueName("ch")
                let collector = MessageCollector(try await subscriber.subscribe([channel]))
                for index in 1...3 { #expect(try await pool.publish(channel, "m\(index)") == 1) }
                let received = try await collector.wait(for: 3)
                #expect(received.map(\.string) == ["m1", "m2", "m3"])
                #expect(received.allSatisfy { $0.channel == channel && $0.pattern == nil })

                let prefix = TestStack.uniqueName("events")
                let patterned = MessageCollector(try await subscriber.psubscribe(["\(prefix).*"]))
                try await pool.publish("\(prefix).created", [0x00, 0xFF])
                try await pool.publish("other.\(prefix)", "not matched")
                let matched = try await patterned.wait(for: 1)
                #expect(matched == [RedisPubSubMessage(channel: "\(prefix).created", pattern: "\(prefix).*", payload: [0x00, 0xFF])])
                collector.cancel()
                patterned.cancel()
            }
            await subscriber.close()
        }

        @Test("ending a stream unsubscribes its channel; close() finishes the others")
        func unsubscribeOnTermination() async throws {
            let subscriber = try Redis.subscriber()
            try await Redis.withPool { pool in
                let dropped = TestStack.uniqueName("dropped")
                let kept = TestStack.uniqueName("kept")
                let first = MessageCollector(try await subscriber.subscribe([dropped]))
                let stream = try await subscriber.subscribe([kept])
                #expect(try await pool.send("PUBSUB", "NUMSUB", dropped) == .array([.bulk(Array(dropped.utf8)), .integer(1)]))

                first.cancel()
                try await eventually("the ended stream's channel has no subscriber left") {
                    try await pool.send("PUBSUB", "NUMSUB", dropped).array?.last?.int == 0
                }
                #expect(try await pool.send("PUBSUB", "NUMSUB", kept).array?.last?.int == 1)

                await subscriber.close()
                var count = 0
                for await _ in stream { count += 1 }  // returns only because close() finished the stream
                #expect(count == 0)
            }
        }

        @Test("subscriptions survive a Redis restart")
        func resubscribeAfterRestart() async throws {
            let servers = try TestStack.startPrivate("redis")
            defer { try? servers.stack("stop", "redis") }
            let subscriber = try Redis.subscriber(servers.redisURL)
            try await Redis.withPool(servers.redisURL) { pool in
                let channel = TestStack.uniqueName("restart")
                let collector = MessageCollector(try await subscriber.subscribe([channel]))
                try await pool.publish(channel, "before")
                #expect(try await collector.wait(for: 1).map(\.string) == ["before"])

                try servers.stack("stop", "redis")
                try servers.stack("start", "redis")

                // Publish until one gets through: the subscriber resubscribes in its own time.
                let received = try await eventuallyValue(pollEvery: .milliseconds(100), "a message published after the restart arrives") {
                    _ = try? await pool.publish(channel, "after")
                    let received = collector.received
                    return received.count >= 2 ? received : nil
                }
                #expect(received.dropFirst().allSatisfy { $0.string == "after" && $0.channel == channel })
                collector.cancel()
            }
            await subscriber.close()
        }
    }
}
