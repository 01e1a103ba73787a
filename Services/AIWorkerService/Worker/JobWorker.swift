import Core
import Logging
import RedisClient
import ServiceKit
import ServiceLifecycle

/// The queue loop: one job at a time from the pools this worker serves, through `RedisJobQueue`.
///
/// Each round first requeues jobs whose lease ran out (a worker died: taken over within the lease
/// plus `reclaimInterval`), then asks the dispatch script for the next job (plan classes, fair share
/// between users, running caps, the models this worker has loaded first), and otherwise waits for a wake-up from an enqueue (at most
/// `readBlock`). On graceful shutdown it takes no new job, lets the running one finish (the
/// processor hands it back after the grace period), then returns.
struct JobWorker: Service {
    let queue: RedisJobQueue
    let pools: [String]
    let workerID: String
    let processor: JobProcessor
    let status: WorkerStatus
    let lease: Duration
    let maxDeliveries: Int
    let readBlock: Duration
    let logger: Logger
    /// Whether to ask for jobs of the loaded models first (off only to measure without it: `bench-scheduler`).
    var preferWarmModels = true

    /// How often expired leases are looked for.
    var reclaimInterval: Duration { min(max(lease / 4, .milliseconds(250)), .seconds(5)) }

    func run() async throws {
        await withGracefulShutdownHandler {
            await loop()
        } onGracefulShutdown: {
            status.requestStop()
        }
        // Other workers stop leaving jobs for its models to it.
        do {
            try await queue.leave(pools: pools, worker: workerID)
        } catch {
            logger.warning("could not leave the warm-model registry; it expires in 30 s", metadata: ["error": "\(error)"])
        }
        // No job runs any more: free the loaded models (and their threads) before the process ends.
        for engine in processor.engines.values { await engine.shutdown() }
        logger.info("worker loop stopped")
    }

    private func loop() async {
        var nextReclaim = ContinuousClock.now
        var failures = 0
        var turn = 0
        logger.info("taking jobs", metadata: ["pools": "\(pools.joined(separator: ","))", "worker_id": "\(workerID)"])
        while !status.isStopping && !Task.isCancelled {
            do {
                if ContinuousClock.now >= nextReclaim {
                    try await reclaim()
                    nextReclaim = .now + reclaimInterval
                }
                // Start from another pool each round, so a busy pool cannot starve the others.
                turn = (turn + 1) % max(pools.count, 1)
                let order = Array(pools[turn...] + pools[..<turn])
                // Jobs for a model this worker has loaded go first, within each job's affinity bound.
                let warm = preferWarmModels ? await warmModels(engines: processor.engines, catalog: processor.catalog, pools: pools) : []
                if let job = try await queue.dispatch(pools: order, worker: workerID, lease: lease, warmModels: warm) {
                    await processor.process(job)
                } else {
                    try await queue.waitForWork(pools: pools, timeout: min(readBlock, reclaimInterval))
                }
                failures = 0
            } catch {
                failures += 1
                if failures == 1 || failures % 30 == 0 {
                    logger.warning("queue unavailable; retrying", metadata: ["error": "\(error)", "failures": "\(failures)"])
                }
                await Background.pause(.seconds(1))
            }
        }
    }

    /// Requeues what dead workers held; jobs out of deliveries are left dead for generation to fail.
    private func reclaim() async throws {
        for pool in pools {
            let (requeued, dead) = try await queue.reclaim(pool: pool, maxDeliveries: maxDeliveries)
            if !requeued.isEmpty {
                logger.notice("requeued jobs whose worker went silent", metadata: ["pool": "\(pool)", "jobs": "\(requeued)"])
            }
            if !dead.isEmpty {
                logger.error("jobs out of deliveries are dead", metadata: ["pool": "\(pool)", "jobs": "\(dead)"])
            }
        }
    }
}
