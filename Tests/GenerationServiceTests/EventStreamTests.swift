import Core
import Foundation
import HTTPClient
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import RedisClient
import ServiceKit
import Synchronization
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

    @Test func aWaitingJobHearsItsPositionAndETAChange() async throws {
        try await GenerationHarness.run { h in
            let queue = RedisJobQueue(redis: h.redis, keys: h.keys)
            let (first, second) = (UserID(), UserID())
            let ahead = try await h.create(first)
            try await eventually("the first job reached the queue") { try await queue.states([ahead])[ahead] == "waiting" }
            let id = try await h.create(second)
            try await eventually("the second job reached the queue") { try await queue.states([id])[id] == "waiting" }

            // Read the stream as it comes, with a real HTTP client.
            let http = CurlHTTPClient(configuration: HTTPClientConfiguration(), logger: Logger(label: "test"))
            let port = try #require(h.client.port)
            var headers: HTTPHeaders = [:]
            for field in GenerationHarness.headers(second) { headers.add(name: field.name.rawName, value: field.value) }
            let response = try await http.stream(HTTPClientRequest(
                url: "http://127.0.0.1:\(port)/api/v1/generations/\(id)/events", headers: headers, timeout: .seconds(10)
            ))
            #expect(response.status == 200)
            let received = Mutex("")
            let reader = Task {
                for try await chunk in response.body { received.withLock { $0 += String(decoding: chunk, as: UTF8.self) } }
            }
            try await eventually("the first event") { !Self.parse(received.withLock { $0 }).isEmpty }
            let initial = try #require(Self.parse(received.withLock { $0 }).first)
            let before = try GenerationHarness.object(ByteBuffer(string: initial.data ?? "{}"))
            #expect(initial.name == "queued" && initial.id == "1000000" && before["queue_position"] as? Int == 1, "\(before)")
            #expect(before["estimated_start_at"] is String && before["estimated_finish_at"] is String, "\(before)")

            // A worker takes the job ahead and finishes it: the waiting job moves to the front.
            let taken = try #require(try await queue.dispatch(pools: ["preview"], worker: "w1", lease: .seconds(30)))
            #expect(taken.jobID == ahead)
            try await queue.complete(ahead, worker: "w1", result: nil, ran: .milliseconds(400))
            try await eventually(timeout: .seconds(10), "a queued update with the new position") {
                Self.parse(received.withLock { $0 }).contains { event in
                    guard event.name == "queued", event.id == nil, let data = event.data,
                          let view = try? GenerationHarness.object(ByteBuffer(string: data))
                    else { return false }
                    return view["queue_position"] as? Int == 0 && view["estimated_start_at"] is String
                }
            }
            try await h.sendResult(
                JobFinished(jobID: id, attempt: 1, workerID: "w2", outcome: .succeeded(images: [ResultsConsumerTests.image()]))
            )
            try await eventually("the terminal event") { Self.parse(received.withLock { $0 }).last?.name == "succeeded" }
            reader.cancel()
            await http.shutdown()
        }
    }
}
