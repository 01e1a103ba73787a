import Core
import Foundation
import TestSupport
import Testing
@testable import GenerationService

@Suite(.timeLimit(.minutes(2))) struct ResultsConsumerTests {
    static func image() -> ProducedImage {
        ProducedImage(imageID: ImageID(), storageKey: "u/i.png", width: 64, height: 64, seed: 42, bytes: 1234, engine: "preview")
    }

    @Test func succeededResultIsAppliedOnceAndCaptured() async throws {
        try await GenerationHarness.run { h in
            let user = UserID()
            let id = try await h.create(user)
            try await h.sendResult(JobStarted(jobID: id, attempt: 1, workerID: "w1", startedAt: .now))
            try await eventually("the job is running") { try await h.job(id, user)["status"] as? String == "running" }

            let image = Self.image()
            let finished = JobFinished(jobID: id, attempt: 1, workerID: "w1", outcome: .succeeded(images: [image]))
            try await h.sendResult(finished)
            try await h.sendResult(finished)  // redelivery
            try await eventually("the job succeeded") { try await h.job(id, user)["status"] as? String == "succeeded" }
            try await eventually("the hold was captured") { h.fakes.settlements(of: id) == ["capture"] }

            let job = try await h.job(id, user)
            let images = try #require(job["images"] as? [[String: Any]])
            #expect(images.count == 1)
            #expect(images.first?["id"] as? String == image.imageID.description)
            #expect(images.first?["url"] as? String == "/api/v1/images/\(image.imageID)/content")
            #expect(job["started_at"] is String)
            #expect(job["finished_at"] is String)
            #expect(job["error"] is NSNull)

            try await eventually("GenerationCompleted reached the events stream") {
                try await !h.streamMessages(h.keys.generationEvents).isEmpty
            }
            try await eventually("the results consumer took both copies of the result") { try await h.resultsConsumed() }
            // The duplicate is applied; a window for a second settlement or event to show up: none may.
            try await Task.sleep(for: .milliseconds(300))
            #expect(h.fakes.settlements(of: id) == ["capture"])
            let completed = try await h.streamMessages(h.keys.generationEvents)
            #expect(completed.count == 1)
            let event = try WireCodec.decode(GenerationCompleted.self, from: Array(completed[0].utf8)).data
            #expect(event.jobID == id)
            #expect(event.userID == user)
            #expect(event.status == .succeeded)
            #expect(event.images == [image])
            #expect(event.cost == 7)
        }
    }

    @Test func failedResultReleasesTheHold() async throws {
        try await GenerationHarness.run { h in
            let user = UserID()
            let id = try await h.create(user)
            try await h.sendResult(JobStarted(jobID: id, attempt: 1, workerID: "w1", startedAt: .now))
            try await h.sendResult(
                JobFinished(jobID: id, attempt: 1, workerID: "w1", outcome: .failed(code: "engine-error", message: "out of memory", retryable: false))
            )
            try await eventually("the job failed") { try await h.job(id, user)["status"] as? String == "failed" }
            try await eventually("the hold was released") { h.fakes.settlements(of: id) == ["release"] }
            let job = try await h.job(id, user)
            let error = try #require(job["error"] as? [String: Any])
            #expect(error["code"] as? String == "engine-error")
            #expect(error["message"] as? String == "out of memory")
            try await eventually("GenerationCompleted(failed) was emitted") {
                guard let text = try await h.streamMessages(h.keys.generationEvents).first else { return false }
                let event = try WireCodec.decode(GenerationCompleted.self, from: Array(text.utf8)).data
                return event.status == .failed && event.cost == 0 && event.images.isEmpty
            }
        }
    }
}
