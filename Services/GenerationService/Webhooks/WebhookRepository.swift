import Foundation

/// Users' webhook endpoints and the deliveries owed to them.
protocol WebhookRepository: Sendable {
    /// Stores a new endpoint.
    func create(_ endpoint: WebhookEndpoint) async throws
    /// The user's endpoints, newest first.
    func endpoints(user: UUID) async throws -> [WebhookEndpoint]
    /// One endpoint if `user` owns it.
    func endpoint(id: UUID, user: UUID) async throws -> WebhookEndpoint?
    /// Deletes the endpoint and its deliveries; false when `user` has no such endpoint.
    func delete(id: UUID, user: UUID) async throws -> Bool
    /// Replaces the secret; the endpoint as it is now, or nil when `user` has no such endpoint.
    func rotateSecret(id: UUID, user: UUID, secret: String) async throws -> WebhookEndpoint?
    /// Deletes every endpoint of `user` (their deliveries with them) and their per-job signing secret; how many endpoints.
    func deleteAll(user: UUID) async throws -> Int
    /// Enables a disabled endpoint again (and forgets its failures); nil when `user` has no such endpoint.
    func enable(id: UUID, user: UUID) async throws -> WebhookEndpoint?
    /// The user's secret for per-job webhooks, made on first use and the same ever after.
    func signingSecret(user: UUID) async throws -> String
    /// Binds a webhook to one job (signed with the user's `signingSecret`); once per job.
    func createJobWebhook(job: UUID, user: UUID, url: String, events: [WebhookEvent]) async throws
    /// The endpoint's most recent deliveries, newest first.
    func deliveries(endpoint: UUID, limit: Int) async throws -> [WebhookDelivery]

    /// Creates the deliveries owed for jobs finished since their endpoint was registered (at most
    /// one per endpoint and job, however often it runs); how many were new.
    func enqueueFinishedJobs() async throws -> Int
    /// Up to `limit` due deliveries, each held for `hold` so no other replica sends it meanwhile.
    func claimDue(limit: Int, hold: Duration) async throws -> [DueDelivery]
    /// Sets the body a delivery is sent with, once; the stored body (the first one set).
    func fixBody(_ id: UUID, body: String) async throws -> String
    /// Records an attempt: delivered on a 2xx, else pending again after `retryAfter` or failed for good.
    /// A failure of an endpoint failing for longer than `disableAfter` disables it (its pending
    /// deliveries fail); true when this attempt disabled it.
    @discardableResult
    func record(_ id: UUID, statusCode: Int?, error: String?, delivered: Bool, retryAfter: Duration?, disableAfter: Duration) async throws -> Bool
}

/// A delivery to attempt now, with what sending it needs.
struct DueDelivery: Sendable {
    var id: UUID
    var jobID: UUID
    var event: String
    var attempts: Int
    var body: String?
    var url: String
    var secret: String
}
