import Core
import Foundation
import Testing
@testable import GenerationService

/// `generation.completed` carries the whole request for gallery's recipes, without the control image.
@Suite(.timeLimit(.minutes(1))) struct CompletedMessageTests {
    @Test func theRequestTravelsWithoutTheControlImage() throws {
        let request = JobRequest(
            model: "sd15", prompt: "p", negativePrompt: "n", width: 512, height: 512, steps: 20, cfgScale: 7, seed: 5, sampler: "euler",
            scheduler: "karras", batchSize: 2, loras: [.init(name: "add-detail", weight: 0.5)],
            controlnet: .init(model: "canny", image: String(repeating: "A", count: 100_000), strength: 0.8)
        )
        let job = Job(
            id: JobID(), userID: UserID(), status: .succeeded, request: request, queue: "gpu-sd15", plan: .pro, priority: 1, cost: 4,
            attempt: 1, retries: 0, lastError: nil, images: [], error: nil, createdAt: Date(), startedAt: nil, finishedAt: Date(),
            deadlineAt: nil, runTimeout: nil, sequence: 1
        )
        let message = try job.completedMessage(keys: PipelineKeys(), traceparent: nil)
        let event = try WireCodec.decode(GenerationCompleted.self, from: message.envelope).data
        var expected = request
        expected.controlnet?.image = ""
        #expect(event.request == expected)
        #expect(message.envelope.count < 10_000, "the control image stays in generation")
    }
}
