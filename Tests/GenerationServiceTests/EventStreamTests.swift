import Core
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import RedisClient
import TestSupport
import Testing
@testable import GenerationService

@Suite(.timeLimit(.minutes(2))) struct EventStreamTests {
    struct Event {
        var id: String?
        var name: String?
        var data: String?
    }

    static func parse(_ text: String) -> [Event] {
        text.components(separatedBy: "\n\n").compactMap { block in
            var event = Event()
            for line in block.split(separator: "\n", omittingEmptySubsequences: true) {
                if line.hasPrefix("id: ") { event.id = String(line.dropFirst(4)) }
                if line.hasPrefix("event: ") { event.name = String(line.dropFirst(7)) }
                if line.hasPrefix("data: ") { event.data = String(line.dropFirst(6)) }
            }
            return event.name == nil ? nil : event
        }
    }

    static let lastEventID = HTTPField.Name("Last-Event-ID")!

    @Test func streamShowsQueuedProgressSucceededInOrderAndEnds() async throws {
        try await GenerationHarness.run { h in
            let user = UserID()
            let id = try await h.create(user)
            let channel = h.keys.jobChannel(id)
            async let streamed = h.get("/api/v1/generations/\(id)/events", user)
            try await eventually("the SSE stream subscribed to \(channel)") {
                let reply = try await h.redis.send("PUBSUB", "NUMSUB", channel)
                return (reply.array?.last?.int ?? 0) >= 1
            }
            _ = try await h.redis.publish(channel, try WireCodec.encode(JobProgress(jobID: id, attempt: 1, step: 1, totalSteps: 4)))
            _ = try await h.redis.publish(channel, try WireCodec.encode(JobProgress(jobID: id, attempt: 1, step: 2, totalSteps: 4)))
            try await h.sendResult(
                JobFinished(jobID: id, attempt: 1, workerID: "w1", outcome: .succeeded(images: [ResultsConsumerTests.image()]))
            )
            let response = try await streamed
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "text/event-stream")
            let events = Self.parse(String(buffer: response.body))
            #expect(events.map(\.name) == ["queued", "progress", "progress", "succeeded"])
            let ids = events.compactMap { $0.id.flatMap(Int64.init) }
            #expect(ids.count == events.count)
            #expect(ids == ids.sorted() && Set(ids).count == ids.count, "ids grow: \(ids)")
            let progress = try GenerationHarness.object(ByteBuffer(string: events[1].data ?? ""))
            #expect(progress["step"] as? Int == 1)
            #expect(progress["total"] as? Int == 4)
            let done = try GenerationHarness.object(ByteBuffer(string: events[3].data ?? ""))
            #expect(done["status"] as? String == "succeeded")
            #expect((done["images"] as? [Any])?.count == 1)

            // A finished job: one terminal event, or nothing for a client that already has it.
            let again = Self.parse(String(buffer: try await h.get("/api/v1/generations/\(id)/events", user).body))
            #expect(again.map(\.name) == ["succeeded"])
            let resumed = try await h.get("/api/v1/generations/\(id)/events", user, headers: [Self.lastEventID: events[3].id ?? ""])
            #expect(resumed.status == .ok)
            #expect(Self.parse(String(buffer: resumed.body)).isEmpty)
        }
    }

    @Test func resumingSkipsTheStateTheClientAlreadyHas() async throws {
        try await GenerationHarness.run { h in
            let user = UserID()
            let id = try await h.create(user)
            let channel = h.keys.jobChannel(id)
            async let streamed = h.get("/api/v1/generations/\(id)/events", user, headers: [Self.lastEventID: "1000000"])
            try await eventually("the SSE stream subscribed") {
                (try await h.redis.send("PUBSUB", "NUMSUB", channel).array?.last?.int ?? 0) >= 1
            }
            try await h.sendResult(
                JobFinished(jobID: id, attempt: 1, workerID: "w1", outcome: .failed(code: "boom", message: "it broke", retryable: false))
            )
            let events = Self.parse(String(buffer: try await streamed.body))
            #expect(events.map(\.name) == ["failed"])
        }
    }
}
