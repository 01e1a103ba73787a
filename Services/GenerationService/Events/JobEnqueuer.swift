import Core
import RedisClient
import ServiceKit

/// How generation's outbox relay delivers: `JobQueued` rows for a pool's queue go into the job queue
/// (waiting, or delayed until `not_before` for a retry), every other row onto its stream.
struct JobEnqueuer: Sendable {
    let queue: RedisJobQueue
    /// Told the pool of every job enqueued (the estimator's cached positions are out of date).
    var enqueued: @Sendable (String) -> Void = { _ in }

    @Sendable func deliver(_ row: OutboxRow) async throws {
        guard queue.keys.pool(ofQueue: row.stream) != nil else {
            _ = try await queue.redis.xadd(row.stream, maxLength: PipelineKeys.streamMaxLength, fields: [("m", row.envelope)])
            return
        }
        let job = try WireCodec.decode(JobQueued.self, from: Array(row.envelope.utf8)).data
        try await queue.enqueue(job, envelope: row.envelope, due: job.notBefore, estimate: job.estimatedSeconds)
        enqueued(job.queue)
    }
}
