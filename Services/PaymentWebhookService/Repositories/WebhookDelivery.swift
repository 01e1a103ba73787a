import Foundation

/// Where a stored delivery stands.
enum DeliveryStatus: String, Sendable, Codable {
    /// Waiting to be applied (again, after `next_attempt_at`).
    case pending
    case processed
    /// Gave up after the attempt limit, or can never succeed as it is; kept for inspection and replay.
    case failed
    /// A test-mode delivery while test mode is not accepted.
    case ignored
    /// A verified body that is not JSON or names an unknown event.
    case dead
}

/// A verified delivery, as the intake stores it.
struct NewDelivery: Sendable {
    var id: UUID
    /// SHA-256 hex of the raw body: Lemon Squeezy sends no event id, and its retries repeat the body byte for byte.
    var dedupeKey: String
    var eventName: String
    var testMode: Bool
    var body: [UInt8]
    var status: DeliveryStatus
    var lastError: String?
}

/// A delivery claimed for processing.
struct ClaimedDelivery: Sendable {
    var id: UUID
    var eventName: String
    var body: [UInt8]
    var attempts: Int
}
