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
        let messages = try await subscriber.subscribe([harness.keys.progressChannel(job.jobID)])
        try await harness.enqueue(job)

        let progress = try await harness.withWorker { () -> [JobProgress] in
            var seen: [JobProgress] = []
            for await message in messages {
                let envelope = try WireCodec.decode(JobProgress.self, from: message.payload)
                seen.append(envelope.data)
                if envelope.data.step == envelope.data.totalSteps { break }
            }
            return seen
        }
        await subscriber.close()
        #expect(!progress.isEmpty)
        #expect(progress.last?.step == 150 && progress.last?.totalSteps == 150 && progress.last?.imageIndex == 0)
        #expect(progress.count <= 10, "throttled to about 10 per second, got \(progress.count)")
        #expect(progress.map(\.step) == progress.map(\.step).sorted())
        #expect(progress.allSatisfy { $0.jobID == job.jobID && $0.attempt == 1 })
    }
}
