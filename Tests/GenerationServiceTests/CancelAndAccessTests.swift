import Core
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import RedisClient
import TestSupport
import Testing
@testable import GenerationService

@Suite(.timeLimit(.minutes(2))) struct CancelAndAccessTests {
    @Test func cancelingAQueuedJobRefundsAndTellsTheWorker() async throws {
        try await GenerationHarness.run { h in
            let user = UserID()
            let id = try await h.create(user)
            let response = try await h.cancel(id, user)
            #expect(response.status == .ok)
            let body = try GenerationHarness.object(response.body)
            #expect(body["status"] as? String == "canceled")
            #expect((body["error"] as? [String: Any])?["code"] as? String == "canceled")
            try await eventually("the hold was released") { h.fakes.settlements(of: id) == ["release"] }
            #expect(try await h.redis.send("GET", h.keys.canceled(id)).string == "1")
            let ttl = try await h.redis.send("TTL", h.keys.canceled(id)).int ?? 0
            #expect(ttl > 86_000)
            try await eventually("GenerationCompleted(canceled) was emitted") {
                guard let text = try await h.streamMessages(h.keys.generationEvents).first else { return false }
                return try WireCodec.decode(GenerationCompleted.self, from: Array(text.utf8)).data.status == .canceled
            }
            // The worker skipping it reports canceled: nothing changes, nothing is settled twice.
            try await h.sendResult(JobFinished(jobID: id, attempt: 1, workerID: "w1", outcome: .canceled))
            let again = try await h.cancel(id, user)
            #expect(again.status == .conflict)
            #expect(try GenerationHarness.problemType(again.body) == "job-finished")
            try await eventually("the results consumer took the worker's report") { try await h.resultsConsumed() }
            // A window for a second settlement to show up: none may.
            try await Task.sleep(for: .milliseconds(200))
            #expect(h.fakes.settlements(of: id) == ["release"])
        }
    }

    @Test func cancelingARunningJobAsksTheWorker() async throws {
        try await GenerationHarness.run { h in
            let user = UserID()
            let id = try await h.create(user)
            try await h.sendResult(JobStarted(jobID: id, attempt: 1, workerID: "w1", startedAt: .now))
            try await eventually("the job is running") { try await h.job(id, user)["status"] as? String == "running" }
            let response = try await h.cancel(id, user)
            #expect(response.status == .accepted)
            #expect(try await h.redis.send("GET", h.keys.canceled(id)).string == "1")
            try await h.sendResult(JobFinished(jobID: id, attempt: 1, workerID: "w1", outcome: .canceled))
            try await eventually("the job is canceled") { try await h.job(id, user)["status"] as? String == "canceled" }
            try await eventually("the hold was released") { h.fakes.settlements(of: id) == ["release"] }
        }
    }

    @Test func cancelingAFinishedJobIs409() async throws {
        try await GenerationHarness.run { h in
            let user = UserID()
            let id = try await h.create(user)
            try await h.sendResult(JobFinished(jobID: id, attempt: 1, workerID: "w1", outcome: .succeeded(images: [])))
            try await eventually("the job succeeded") { try await h.job(id, user)["status"] as? String == "succeeded" }
            let response = try await h.cancel(id, user)
            #expect(response.status == .conflict)
            #expect(try GenerationHarness.problemType(response.body) == "job-finished")
        }
    }

    @Test func anotherUserGets404Everywhere() async throws {
        try await GenerationHarness.run { h in
            let owner = UserID()
            let stranger = UserID()
            let id = try await h.create(owner)
            let read = try await h.get("/api/v1/generations/\(id)", stranger)
            #expect(read.status == .notFound)
            #expect(try GenerationHarness.problemType(read.body) == "not-found")
            #expect(try await h.get("/api/v1/generations/\(id)/events", stranger).status == .notFound)
            #expect(try await h.cancel(id, stranger).status == .notFound)
            #expect(try await h.get("/api/v1/generations/not-a-uuid", stranger).status == .notFound)
            #expect(try await h.job(id, owner)["status"] as? String == "queued")
        }
    }

    @Test func listingPagesThroughOwnJobsNewestFirst() async throws {
        try await GenerationHarness.run { h in
            let user = UserID()
            var created: [JobID] = []
            for _ in 0..<3 { created.append(try await h.create(user, plan: .studio)) }
            _ = try await h.create(UserID())  // someone else's

            let first = try GenerationHarness.object(try await h.get("/api/v1/generations?limit=2", user).body)
            let firstItems = try #require(first["items"] as? [[String: Any]])
            #expect(firstItems.compactMap { $0["id"] as? String } == [created[2], created[1]].map(\.description))
            let cursor = try #require(first["next_cursor"] as? String)

            let second = try GenerationHarness.object(try await h.get("/api/v1/generations?limit=2&cursor=\(cursor)", user).body)
            let secondItems = try #require(second["items"] as? [[String: Any]])
            #expect(secondItems.compactMap { $0["id"] as? String } == [created[0].description])
            #expect(second["next_cursor"] is NSNull)

            let all = try GenerationHarness.object(try await h.get("/api/v1/generations", user).body)
            #expect((all["items"] as? [Any])?.count == 3)

            #expect(try await h.get("/api/v1/generations?cursor=garbage!", user).status == .badRequest)
            #expect(try await h.get("/api/v1/generations?limit=0", user).status == .badRequest)
            #expect(try await h.get("/api/v1/generations?limit=101", user).status == .badRequest)
        }
    }
}
