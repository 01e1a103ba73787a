import RedisClient
import TestSupport
import Testing

extension RedisClientTests {
    @Suite("Redis streams and consumer groups", .timeLimit(.minutes(2)))
    struct RedisStreamTests {
        @Test("a consumer group delivers new messages to a consumer and XACK clears them from pending")
        func consumerGroup() async throws {
            try await Redis.withPool { pool in
                let stream = TestStack.uniqueName("jobs")
                try await pool.xgroupCreate(stream, group: "workers")
                try await pool.xgroupCreate(stream, group: "workers")  // BUSYGROUP is tolerated

                var ids: [String] = []
                for index in 0..<5 {
                    ids.append(try await pool.xadd(stream, maxLength: 1000, fields: [("job", "j\(index)"), ("n", String(index))]))
                }
                #expect(try await pool.send("XLEN", stream).int == 5)

                let messages = try await pool.xreadgroup(
                    group: "workers", consumer: "A", streams: [stream], count: 10, block: .milliseconds(100)
                )
                #expect(messages.map(\.id) == ids)
                #expect(messages.map(\.stream) == Array(repeating: stream, count: 5))
                #expect(messages.first?.fields == ["job": "j0", "n": "0"])
                #expect(messages.last?.fields == ["job": "j4", "n": "4"])

                let pending = try await pool.xpending(stream, group: "workers")
                #expect(pending.count == 5)
                #expect(pending.smallestID == ids.first)
                #expect(pending.largestID == ids.last)
                #expect(pending.consumers == ["A": 5])

                // Nothing new for another consumer; BLOCK returns empty after its time.
                let none = try await pool.xreadgroup(group: "workers", consumer: "B", streams: [stream], count: 10, block: .milliseconds(50))
                #expect(none.isEmpty)

                #expect(try await pool.xack(stream, group: "workers", ids: ids) == 5)
                let after = try await pool.xpending(stream, group: "workers")
                #expect(after == RedisPendingSummary(count: 0, smallestID: nil, largestID: nil, consumers: [:]))
            }
        }

        @Test("a group created at 0 sees existing entries; an unknown group is NOGROUP")
        func groupStartID() async throws {
            try await Redis.withPool { pool in
                let stream = TestStack.uniqueName("history")
                _ = try await pool.xadd(stream, maxLength: nil, fields: [("old", "1")])
                try await pool.xgroupCreate(stream, group: "from-start", startID: "0")
                let messages = try await pool.xreadgroup(group: "from-start", consumer: "c", streams: [stream], count: 10, block: nil)
                #expect(messages.map(\.fields) == [["old": "1"]])
                let wrongGroup = await #expect(throws: RedisError.self) {
                    try await pool.xreadgroup(group: "nope", consumer: "c", streams: [stream], count: 1, block: nil)
                }
                #expect(wrongGroup?.serverCode == "NOGROUP")
            }
        }

        @Test("XAUTOCLAIM hands a message a dead consumer never acked to a live one")
        func autoclaim() async throws {
            try await Redis.withPool { pool in
                let stream = TestStack.uniqueName("claims")
                try await pool.xgroupCreate(stream, group: "g")
                let id = try await pool.xadd(stream, maxLength: 100, fields: [("task", "render")])
                _ = try await pool.xadd(stream, maxLength: 100, fields: [("task", "unread")])

                let taken = try await pool.xreadgroup(group: "g", consumer: "dead", streams: [stream], count: 1, block: nil)
                #expect(taken.map(\.id) == [id])

                // Not idle long enough yet: nothing to claim.
                let early = try await pool.xautoclaim(stream, group: "g", consumer: "live", minIdle: .seconds(30), count: 10)
                #expect(early.messages.isEmpty)

                let claimed = try await eventuallyValue("the message has been idle for 100 ms and is claimed") {
                    let claimed = try await pool.xautoclaim(stream, group: "g", consumer: "live", minIdle: .milliseconds(100), count: 10)
                    return claimed.messages.isEmpty ? nil : claimed
                }
                #expect(claimed.messages == [RedisStreamMessage(stream: stream, id: id, fields: ["task": "render"])])
                #expect(claimed.next == "0-0")
                #expect(try await pool.xpending(stream, group: "g").consumers == ["live": 1])

                #expect(try await pool.xack(stream, group: "g", ids: [id]) == 1)
                #expect(try await pool.xpending(stream, group: "g").count == 0)
            }
        }
    }
}
