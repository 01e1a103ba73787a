import Foundation
import HTTPClient
import Logging
import PostgresClient
import ServiceKit
import TestSupport
import Testing

@testable import GenerationService

/// An endpoint whose every attempt fails for `disableAfter` is disabled: its pending deliveries
/// fail, nothing more is claimed for it, its owner sees it (`disabled_at`, `failing_since`), and
/// enabling it forgets the failures. A success in between resets the clock.
@Suite(.timeLimit(.minutes(2))) struct WebhookHealthTests {
    static let logger = Logger(label: "test")

    @Test func anEndpointFailingTooLongIsDisabledUntilEnabled() async throws {
        let schema = TestStack.uniqueName("hooks").replacingOccurrences(of: "-", with: "_")
        let pool = PostgresPool(configuration: PostgresConfiguration(url: try TestStack.shared().databaseURL, schema: schema, maxConnections: 2), logger: Self.logger)
        let http = CurlHTTPClient(logger: Self.logger)
        try await withClosing(pool, close: { await $0.close(); await http.shutdown() }) { pool in
            _ = try await PostgresMigrator(pool: pool, schema: schema, logger: Self.logger).migrate(GenerationMigrations.all)
            let webhooks = PostgresWebhookRepository(pool: pool)
            let user = UUID()
            // Port 9 on loopback: nothing listens, every attempt is refused.
            let endpoint = WebhookEndpoint(id: UUID(), userID: user, url: "http://127.0.0.1:9/hook", events: WebhookEvent.allCases, secret: WebhookSigner.makeSecret(), createdAt: Date())
            try await webhooks.create(endpoint)
            let first = UUID(), second = UUID(), third = UUID()
            for job in [first, second, third] {
                _ = try await pool.execute(
                    "INSERT INTO webhook_deliveries (id, endpoint_id, job_id, event, body) VALUES (gen_random_uuid(), $1::uuid, $2::uuid, 'generation.succeeded', '{}')",
                    endpoint.id, job)
            }
            let dispatcher = WebhookDispatcher(
                webhooks: webhooks, jobs: PostgresJobRepository(pool: pool), http: http, target: WebhookTarget(allowedHosts: ["127.0.0.1"]), interval: .milliseconds(50),
                retryBase: .milliseconds(1), disableAfter: .zero, ready: { true }, logger: Self.logger
            )

            // The first failure starts the clock; the endpoint still works.
            await dispatcher.send(try #require(try await webhooks.claimDue(limit: 1, hold: .seconds(60)).first))
            var shown = try #require(try await webhooks.endpoint(id: endpoint.id, user: user))
            #expect(shown.failingSince != nil && shown.disabledAt == nil)

            // A failure of an endpoint failing since before `disableAfter` ago disables it.
            await dispatcher.send(try #require(try await webhooks.claimDue(limit: 1, hold: .seconds(60)).first))
            shown = try #require(try await webhooks.endpoint(id: endpoint.id, user: user))
            #expect(shown.disabledAt != nil, "disabled after failing too long")
            let deliveries = try await webhooks.deliveries(endpoint: endpoint.id, limit: 10)
            #expect(deliveries.allSatisfy { $0.status == "failed" }, "nothing stays pending for a disabled endpoint: \(deliveries.map(\.status))")
            #expect(deliveries.contains { $0.lastError == "endpoint disabled: failing for too long" })
            #expect(try await webhooks.claimDue(limit: 10, hold: .seconds(60)).isEmpty, "nothing is sent to a disabled endpoint")
            #expect(try await webhooks.enable(id: endpoint.id, user: UUID()) == nil, "someone else's endpoint")

            let enabled = try #require(try await webhooks.enable(id: endpoint.id, user: user))
            #expect(enabled.disabledAt == nil && enabled.failingSince == nil)

            // A success resets the clock: the next failure does not disable.
            let fresh = UUID()
            _ = try await pool.execute(
                "INSERT INTO webhook_deliveries (id, endpoint_id, job_id, event, body) VALUES ($1::uuid, $2::uuid, $3::uuid, 'generation.failed', '{}')",
                fresh, endpoint.id, UUID())
            _ = try await webhooks.record(fresh, statusCode: 204, error: nil, delivered: true, retryAfter: nil, disableAfter: .zero)
            #expect(try await webhooks.endpoint(id: endpoint.id, user: user)?.failingSince == nil)
        }
    }
}
