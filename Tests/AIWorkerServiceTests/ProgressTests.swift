import Core
import Foundation
import Logging
import RedisClient
import TestSupport
import Testing
@testable import AIWorkerService

@Suite(.timeLimit(.minutes(2))) struct ProgressTests {
    @Test func progressIsPublishedThrottledAndEndsWithTheLastStep() async throws {
        let harness = try WorkerHarness()
        let job = harness.job { $0.steps = 150 }  // ~0.3 s of 2 ms steps
        let subscriber = RedisSubscriber(configuration: RedisConfiguration(url: try TestStack.shared().redisURL), logger: Logger(label: "test"))
        let messages = MessageCollector(try await subscriber.subscribe([harness.keys.jobChannel(job.jobID)]))
        try await harness.enqueue(job)

        let progress = try await harness.withWorker {
            try await eventuallyValue("the progress of the last step") { () -> [JobProgress]? in
                let seen = try messages.received.map { try WireCodec.decode(JobProgress.self, from: $0.payload).data }
                return seen.contains { $0.step == $0.totalSteps } ? seen : nil
            }
        }
        messages.cancel()
        await subscriber.close()
        #expect(!progress.isEmpty)
        #expect(progress.last?.step == 150 && progress.last?.totalSteps == 150 && progress.last?.imageIndex == 0)
        #expect(progress.count <= 10, "throttled to about 10 per second, got \(progress.count)")
        #expect(progress.map(\.step) == progress.map(\.step).sorted())
        #expect(progress.allSatisfy { $0.jobID == job.jobID && $0.attempt == 1 })
    }
}
