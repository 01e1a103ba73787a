import Foundation

/// A user's completion webhook: where to send which events, and the secret that signs them.
struct WebhookEndpoint: Sendable, Equatable {
    var id: UUID
    var userID: UUID
    var url: String
    var events: [WebhookEvent]
    /// `whsec_<base64>` (Standard Webhooks); shown to the owner only when created or rotated.
    var secret: String
    var createdAt: Date
    /// Set for a job's own webhook (`webhook` on the submission): only that job's events, and
    /// never listed among the user's endpoints.
    var jobID: UUID? = nil
    /// Since when every attempt has failed (nil after a success); the endpoint is disabled once this
    /// is older than the dispatcher's `disableAfter`.
    var failingSince: Date? = nil
    /// Disabled for failing too long: nothing more is sent until the owner enables it again.
    var disabledAt: Date? = nil
}

/// The events a webhook can be sent for: a generation's end.
enum WebhookEvent: String, Sendable, CaseIterable, Codable {
    case succeeded = "generation.succeeded"
    case failed = "generation.failed"
    case canceled = "generation.canceled"
}

/// One event for one endpoint, as the endpoint's owner sees it.
struct WebhookDelivery: Sendable, Equatable {
    var id: UUID
    var jobID: UUID
    var event: String
    /// `pending` (sent again at `nextAttemptAt`), `delivered` (a 2xx came back) or `failed` (attempts used up).
    var status: String
    var attempts: Int
    var lastStatusCode: Int?
    var lastError: String?
    var createdAt: Date
    var nextAttemptAt: Date
    var deliveredAt: Date?
}
