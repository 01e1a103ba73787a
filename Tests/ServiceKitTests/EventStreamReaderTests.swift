import Core
import Foundation
import Logging
import RedisClient
import ServiceKit
import TestSupport
import Testing

/// `EventStreamReader.each` against the real Redis: what a consumer applies is acknowledged, other
/// event types are skipped, an unreadable message is dead-lettered, and a failure leaves the rest
/// pending to be claimed again.
@Suite(.timeLimit(.minutes(1))) struct EventStreamReaderTests {
    struct ApplyFailed: Error {}

    @Test func eachAppliesSkipsDeadLettersAndLeavesWhatFailedPending() async throws {
        let redis = RedisPool(configuration: RedisConfiguration(url: try TestStack.shared().redisURL), logger: Logger(label: "test"))
        defer { Task { await redis.close() } }
        let keys = PipelineKeys(namespace: TestStack.uniqueName("esr"))
        let reader = EventStreamReader(
            redis: redis, stream: keys.userEvents, group: "test", consumer: "c1", lease: .seconds(60), deadLetterStream: keys.eventsDeadLetter,
            logger: Logger(label: "test")
        )
        try await redis.xgroupCreate(keys.userEvents, group: "test", startID: "0")
        func add(_ text: String) async throws { _ = try await redis.xadd(keys.userEvents, maxLength: nil, fields: [("m", text)]) }
        let first = UserID(), second = UserID(), third = UserID()
        func deleted(_ user: UserID) throws -> String { String(decoding: try WireCodec.encode(UserDeleted(userID: user, deletedAt: Date())), as: UTF8.self) }
        try await add(try deleted(first))
        try await add(String(decoding: try WireCodec.encode(PlanChanged(userID: first, plan: .pro, effectiveAt: Date(), sourceRef: "x")), as: UTF8.self))
        try await add(#"{"not": "an envelope"#)
        try await add(try deleted(second))
        try await add(try deleted(third))

        let messages = try await redis.xreadgroup(group: "test", consumer: "c1", streams: [keys.userEvents], count: 10, block: nil)
        #expect(messages.count == 5)
        var applied: [UserID] = []
        await #expect(throws: ApplyFailed.self) {
            try await reader.each(UserDeleted.self, in: messages) { event in
                if event.data.userID == second { throw ApplyFailed() }
                applied.append(event.data.userID)
            }
        }
        #expect(applied == [first], "the plan event is skipped; the failure stops the batch")
        let pending = try await redis.xpending(keys.userEvents, group: "test")
        #expect(pending.count == 2, "what failed and what came after it stay pending: \(pending)")
        let dead = try await redis.send("XLEN", keys.eventsDeadLetter).int
        #expect(dead == 1, "the unreadable message is dead-lettered")

        // Claimed again, the rest goes through.
        let again = messages.suffix(2)
        try await reader.each(UserDeleted.self, in: Array(again)) { applied.append($0.data.userID) }
        #expect(applied == [first, second, third])
        #expect(try await redis.xpending(keys.userEvents, group: "test").count == 0)
    }
}
