import Core
import Foundation
import HTTPClient
import Logging
import ServiceKit
import ServiceLifecycle

/// Releases holds whose job never came to exist.
///
/// generation holds credits before it writes the job; if it died in between, or the hold call
/// timed out after this service committed, nothing would ever settle the hold. Every
/// `interval` this sweep asks generation (`GET /internal/jobs/{id}`) about holds still `held`
/// after `after`, and releases those generation answers 404 for. Any other answer, or none, leaves
/// the hold alone: a job that exists is settled by generation.
struct OrphanHoldSweeper: Service {
    let ledger: any CreditLedgerRepository
    let http: CurlHTTPClient
    /// user's credential for generation's `/internal/jobs`.
    let trust: InternalTrust
    let generationURL: String
    let after: Duration
    let interval: Duration
    let ready: @Sendable () -> Bool
    let logger: Logger

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            if ready() { await sweep() }
            await Background.pause(interval)
        }
    }

    func sweep() async {
        let cutoff = Date.now.addingTimeInterval(-after.inSeconds)
        let held: [JobID]
        do {
            held = try await ledger.heldSince(before: cutoff, limit: 100)
        } catch {
            logger.warning("could not list old holds", metadata: ["error": "\(error)"])
            return
        }
        for job in held {
            let request = HTTPClientRequest(
                url: "\(generationURL)/internal/jobs/\(job)", headers: HTTPHeaders().withCredential(of: trust), timeout: .seconds(5))
            let response = try? await http.execute(request)
            guard response?.status == 404 else { continue }
            do {
                _ = try await ledger.release(jobID: job)
                logger.notice("released the hold of a job that was never created", metadata: ["job_id": "\(job)"])
            } catch {
                logger.warning("could not release an orphaned hold", metadata: ["job_id": "\(job)", "error": "\(error)"])
            }
        }
    }
}
