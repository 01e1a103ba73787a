import Core
import Logging
import RedisClient

/// Publishes an engine's steps as `JobProgress` envelopes on `pingvas:job:<id>`, at most ~10 per second.
///
/// Fed by a stream that keeps only the newest step, it sends one, waits `minInterval`, then sends
/// whatever is newest: intermediate steps are skipped, the final step is always sent.
struct ProgressPublisher: Sendable {
    let redis: RedisPool
    let channel: String
    let jobID: JobID
    let attempt: Int
    var minInterval: Duration = .milliseconds(100)
    let logger: Logger

    func run(_ steps: AsyncStream<EngineProgress>) async {
        for await progress in steps {
            let message = JobProgress(
                jobID: jobID, attempt: attempt, step: progress.step, totalSteps: progress.totalSteps, imageIndex: progress.imageIndex
            )
            do {
                try await redis.publish(channel, WireCodec.encode(message))
            } catch {
                logger.debug("progress not published", metadata: ["error": "\(error)"])
            }
            if !progress.isFinal { try? await Task.sleep(for: minInterval) }
        }
    }
}
