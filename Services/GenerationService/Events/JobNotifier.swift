import Core
import Foundation
import Logging
import RedisClient

/// Publishes status changes on a job's pub/sub channel for the SSE streams of every replica.
///
/// Best effort by nature (pub/sub keeps nothing): a lost message is caught up by the SSE stream's
/// periodic look at the database.
struct JobNotifier: Sendable {
    let redis: RedisPool
    let keys: PipelineKeys
    let logger: Logger

    func statusChanged(_ job: Job) async {
        let message = JobStatusChanged(
            jobID: job.id, status: job.status, attempt: job.attempt,
            changedAt: job.finishedAt ?? job.startedAt ?? .now, error: job.error
        )
        do {
            _ = try await redis.publish(keys.jobChannel(job.id), try WireCodec.encode(message))
        } catch {
            logger.warning("could not publish a status change", metadata: ["job_id": "\(job.id)", "error": "\(error)"])
        }
    }
}
