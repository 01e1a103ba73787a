import Core
import Logging
import RedisClient
import ServiceLifecycle

/// The queue loop: one job at a time from the `workers` group of each pool's stream.
///
/// Groups are created at `0`, so jobs enqueued before the first worker ever started are still served.
/// Between reads (each blocks up to `readBlock`) it `XAUTOCLAIM`s messages pending longer than the lease
/// on a consumer that went silent. On graceful shutdown it takes no new job, lets the running one
/// finish (the processor hands it back after the grace period), then returns.
struct JobWorker: Service {
    let redis: RedisPool
    let streams: [String]
    let workerID: String
    let processor: JobProcessor
    let status: WorkerStatus
    let lease: Duration
    let readBlock: Duration
    let logger: Logger

    /// How often pending messages of dead consumers are looked for.
    var claimInterval: Duration { min(max(lease / 4, .milliseconds(250)), .seconds(30)) }

    func run() async throws {
        await withGracefulShutdownHandler {
            await loop()
        } onGracefulShutdown: {
            status.requestStop()
        }
        // No job runs any more: free the loaded models (and their threads) before the process ends.
        for engine in processor.engines.values { await engine.shutdown() }
        logger.info("worker loop stopped")
    }

    private func loop() async {
        var groupsReady = false
        var nextClaim = ContinuousClock.now
        var failures = 0
        let block = min(readBlock, claimInterval)
        logger.info("taking jobs", metadata: ["queues": "\(streams.joined(separator: ","))", "worker_id": "\(workerID)"])
        while !status.isStopping && !Task.isCancelled {
            do {
                if !groupsReady {
                    for stream in streams { try await redis.xgroupCreate(stream, group: PipelineKeys.workerGroup, startID: "0") }
                    groupsReady = true
                }
                if ContinuousClock.now >= nextClaim {
                    if let claimed = try await claimOne() {
                        logger.notice("claimed a job left pending by a silent worker", metadata: ["stream": "\(claimed.stream)", "message_id": "\(claimed.id)"])
                        await processor.process(claimed)
                        continue  // there may be more
                    }
                    nextClaim = .now + claimInterval
                }
                let messages = try await redis.xreadgroup(
                    group: PipelineKeys.workerGroup, consumer: workerID, streams: streams, count: 1, block: block
                )
                // Several pools can each hand over one message; all are ours now, so each is served.
                for message in messages { await processor.process(message) }
                failures = 0
            } catch {
                if let error = error as? RedisError, error.serverCode == "NOGROUP" { groupsReady = false }
                failures += 1
                if failures == 1 || failures % 30 == 0 {
                    logger.warning("queue read failed; retrying", metadata: ["error": "\(error)", "failures": "\(failures)"])
                }
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(1)) }
            }
        }
    }

    /// The first message pending longer than the lease on any of the streams, now owned by this worker.
    private func claimOne() async throws -> RedisStreamMessage? {
        for stream in streams {
            var cursor = "0-0"
            for _ in 0..<10 {
                let (next, messages) = try await redis.xautoclaim(
                    stream, group: PipelineKeys.workerGroup, consumer: workerID, minIdle: lease, start: cursor, count: 1
                )
                if let message = messages.first { return message }
                if next == "0-0" { break }
                cursor = next
            }
        }
        return nil
    }
}
