import Foundation
import ServiceKit

/// Where webhook deliveries are kept.
protocol DeliveryRepository: Sendable {
    /// Stores `delivery` unless one with the same dedupe key exists; true when it was new.
    func store(_ delivery: NewDelivery) async throws -> Bool
    /// Deliveries newest first (by receipt, then id), after `cursor`, optionally of one status; no bodies.
    func list(status: DeliveryStatus?, after cursor: PageCursor?, limit: Int) async throws -> [DeliverySummary]
    /// Puts a finished delivery back to `pending`, due now, with a fresh attempt count, so the
    /// processor applies it again. Test-mode deliveries are only replayed when `allowTestMode`.
    func replay(_ id: UUID, allowTestMode: Bool) async throws -> ReplayOutcome
}

/// What `DeliveryRepository.replay` did.
enum ReplayOutcome: Sendable, Equatable {
    case replayed
    case notFound
    /// Already pending: the processor will get to it.
    case pending
    /// A test-mode delivery while test mode is not accepted: applying it would grant for a test payment.
    case testModeRefused
}
