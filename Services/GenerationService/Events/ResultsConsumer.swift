import Core
import Foundation
import Logging
import RedisClient
import ServiceLifecycle

/// Applies the workers' `JobStarted` / `JobFinished` from `pingvas:results` (group `generation`).
///
/// Each result is applied once per `(job_id, attempt)` by a conditional update; the status change,
/// its `GenerationCompleted` outbox row and the pending settlement commit together, then the change is
/// published on the job's channel, the message acknowledged and the hold captured or released.
/// Messages left pending longer than the lease (a dead replica) are claimed with `XAUTOCLAIM`; a
/// second loop finishes settlements that could not be done at once.
struct ResultsConsumer: Service {
    let redis: RedisPool
    let keys: RedisKeys
    let jobs: any JobRepository
    let settler: CreditSettler
    let notifier: JobNotifier
    let lease: Duration
    let ready: @Sendable () -> Bool
    let logger: Logger
    let consumer: String = "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))"

    static let settleInterval = Duration.seconds(2)

    func run() async throws {
        guard await waitUntil(ready) else { return }
        await withDiscardingTaskGroup { group in
            group.addTask { await consume() }
            group.addTask { await settleLoop() }
        }
    }

    private func consume() async {
        var backoff = Duration.milliseconds(100)
        var groupReady = false
        var lastClaim = ContinuousClock.now - lease
        while !shouldStop {
            do {
                if !groupReady {
                    try await redis.xgroupCreate(keys.results, group: keys.resultsGroup, startID: "0")
                    groupReady = true
                }
                if ContinuousClock.now - lastClaim >= max(lease / 2, .seconds(1)) {
                    try await claimAbandoned()
                    lastClaim = .now
                }
                let messages = try await redis.xreadgroup(
                    group: keys.resultsGroup, consumer: consumer, streams: [keys.results], count: 32, block: .seconds(1)
                )
                for message in messages { await handle(message) }
                backoff = .milliseconds(100)
            } catch {
                if let error = error as? RedisError, error.serverCode == "NOGROUP" { groupReady = false }
                logger.warning("results consumer failed; retrying", metadata: ["error": "\(error)", "retry_in": "\(backoff)"])
                await pause(backoff)
                backoff = min(backoff * 2, .seconds(5))
            }
        }
    }

    /// Takes over results pending on any consumer (this one included) for longer than the lease.
    private func claimAbandoned() async throws {
        var start = "0-0"
        repeat {
            let (next, messages) = try await redis.xautoclaim(
                keys.results, group: keys.resultsGroup, consumer: consumer, minIdle: lease, start: start, count: 50
            )
            if !messages.isEmpty { logger.info("claimed abandoned results", metadata: ["count": "\(messages.count)"]) }
            for message in messages { await handle(message) }
            start = next
        } while start != "0-0" && !shouldStop
    }

    private func settleLoop() async {
        while !shouldStop {
            await pause(Self.settleInterval)
            do {
                _ = try await settler.settlePending()
            } catch {
                logger.warning("could not list unsettled jobs", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Applies one message, retrying while the database is unavailable, then acknowledges it.
    private func handle(_ message: RedisStreamMessage) async {
        var backoff = Duration.milliseconds(100)
        var settlement: (JobID, Settlement)?
        while true {
            do {
                settlement = try await apply(message)
                break
            } catch {
                logger.warning("applying a result failed; retrying", metadata: ["entry": "\(message.id)", "error": "\(error)"])
                if shouldStop { return }  // stays pending; a live consumer claims it after the lease
                await pause(backoff)
                backoff = min(backoff * 2, .seconds(5))
            }
        }
        do {
            try await redis.xack(keys.results, group: keys.resultsGroup, ids: [message.id])
        } catch {
            // Pending again after the lease; applying twice changes nothing.
            logger.warning("XACK failed", metadata: ["entry": "\(message.id)", "error": "\(error)"])
        }
        if let (id, settlement) = settlement { await settler.settle(id, settlement) }
    }

    /// The effect of one message; returns the settlement to perform once it is acknowledged.
    private func apply(_ message: RedisStreamMessage) async throws -> (JobID, Settlement)? {
        guard let raw = message.fields["m"] else {
            logger.error("result without field m; dropped", metadata: ["entry": "\(message.id)"])
            return nil
        }
        let bytes = Array(raw.utf8)
        let header: EnvelopeHeader
        do {
            header = try WireCodec.peek(bytes)
        } catch {
            logger.error("unreadable result; dropped", metadata: ["entry": "\(message.id)", "error": "\(error)"])
            return nil
        }
        do {
            switch header.type {
            case JobStarted.type:
                let started = try WireCodec.decode(JobStarted.self, from: bytes).data
                if let job = try await jobs.markStarted(id: started.jobID, attempt: started.attempt, at: started.startedAt) {
                    await notifier.statusChanged(job)
                }
                return nil
            case JobFinished.type:
                let finished = try WireCodec.decode(JobFinished.self, from: bytes).data
                let change = JobCompletion(finished.outcome)
                let keys = keys
                let job = try await jobs.finish(
                    id: finished.jobID, change: change, attempt: finished.attempt, owner: nil, onlyQueued: false
                ) { job in try job.completedMessage(keys: keys, traceparent: header.traceparent) }
                guard let job else {
                    logger.debug("result already applied or unknown job", metadata: ["job_id": "\(finished.jobID)"])
                    return nil
                }
                logger.info("job finished", metadata: ["job_id": "\(job.id)", "status": "\(job.status.rawValue)"])
                await notifier.statusChanged(job)
                return (job.id, change.settlement)
            default:
                logger.warning("unexpected message type on results; dropped", metadata: ["type": "\(header.type)"])
                return nil
            }
        } catch let error as WireCodecError {
            logger.error("malformed result; dropped", metadata: ["entry": "\(message.id)", "error": "\(error)"])
            return nil
        }
    }
}
