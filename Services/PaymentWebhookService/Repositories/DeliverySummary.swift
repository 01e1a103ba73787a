import Foundation
import ServiceKit

/// A stored delivery's processing state, as admins see it: never its body.
struct DeliverySummary: Sendable, Equatable {
    var id: UUID
    var eventName: String
    var status: DeliveryStatus
    var testMode: Bool
    var attempts: Int
    var lastError: String?
    var receivedAt: Date
    var nextAttemptAt: Date
    var processedAt: Date?

    var cursor: PageCursor { PageCursor(time: receivedAt, id: id) }
}
