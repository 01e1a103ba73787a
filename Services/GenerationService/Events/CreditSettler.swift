import Core
import Logging

/// Captures or releases the credit hold of finished jobs, after their status change committed.
///
/// A job keeps `settlement` without `settled_at` until user confirmed, so a failed call (or a
/// restart) is finished by `settlePending()`; user's capture and release are idempotent.
struct CreditSettler: Sendable {
    let jobs: any JobRepository
    let ledger: any CreditLedger
    let logger: Logger

    /// One attempt; false when user could not be asked (the job stays pending).
    @discardableResult
    func settle(_ id: JobID, _ settlement: Settlement) async -> Bool {
        do {
            switch try await ledger.settle(job: id, settlement) {
            case .settled:
                break
            case .conflict:
                logger.error("hold already settled the other way", metadata: ["job_id": "\(id)", "wanted": "\(settlement.rawValue)"])
            case .noHold:
                logger.warning("no hold to settle", metadata: ["job_id": "\(id)", "wanted": "\(settlement.rawValue)"])
            }
            try await jobs.markSettled(id: id)
            return true
        } catch {
            logger.warning("settling credits failed; will retry", metadata: ["job_id": "\(id)", "error": "\(error)"])
            return false
        }
    }

    /// Settles every job still pending; returns how many are left.
    func settlePending() async throws -> Int {
        var left = 0
        for (id, settlement) in try await jobs.unsettled(limit: 100) where !(await settle(id, settlement)) {
            left += 1
        }
        return left
    }
}
