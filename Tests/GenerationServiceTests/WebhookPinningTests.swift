import Foundation
import HTTPClient
import Logging
import PostgresClient
import ServiceKit
import Synchronization
import TestSupport
import Testing

@testable import GenerationService

/// A webhook attempt connects to the addresses its target was checked at, not to a fresh DNS answer
/// (DNS rebinding: a host that resolves to a public address for the check and to an internal one a
/// moment later must not reach the internal one).
@Suite(.timeLimit(.minutes(1))) struct WebhookPinningTests {
    static let logger = Logger(label: "test")

    @Test func theCheckedAddressesAreTheOnesConnectedTo() async {
        let target = WebhookTarget(allowedHosts: [], resolver: { host in
            host == "mixed.example" ? ["93.184.216.34", "10.0.0.7"] : ["93.184.216.34", "2606:4700::1111"]
        })
        #expect(await target.check("https://hooks.example/x") == .allowed(pinned: ["93.184.216.34", "2606:4700::1111"]))
        #expect(await target.check("https://mixed.example/x") == .refused("resolves to a non-public address (10.0.0.7)"))
        let allowed = WebhookTarget(allowedHosts: ["local.test"], resolver: { _ in [] })
        #expect(await allowed.check("http://local.test:9/x") == .allowed(pinned: []), "an allowed host that does not resolve is left to libcurl")
    }

    /// `hooks.pingvas.invalid` never resolves (RFC 6761): the delivery reaches the receiver on
    /// loopback only through the address the check found.
    @Test func aDeliveryGoesToTheAddressItsHostWasCheckedAt() async throws {
        let schema = TestStack.uniqueName("pins").replacingOccurrences(of: "-", with: "_")
        let pool = PostgresPool(configuration: PostgresConfiguration(url: try TestStack.shared().databaseURL, schema: schema, maxConnections: 2), logger: Self.logger)
        let http = CurlHTTPClient(logger: Self.logger)
        let receiver = try await FakeUpstreams.start()
        try await withClosing(pool, close: { await $0.close(); await http.shutdown(); receiver.stop() }) { pool in
            _ = try await PostgresMigrator(pool: pool, schema: schema, logger: Self.logger).migrate(GenerationMigrations.all)
            let webhooks = PostgresWebhookRepository(pool: pool)
            let port = try #require(receiver.url.split(separator: ":").last.map(String.init))
            let user = UUID()
            let endpoint = WebhookEndpoint(
                id: UUID(), userID: user, url: "http://hooks.pingvas.invalid:\(port)/hooks/pinned", events: WebhookEvent.allCases,
                secret: WebhookSigner.makeSecret(), createdAt: Date()
            )
            try await webhooks.create(endpoint)
            func dispatcher(resolvingTo addresses: [String]) -> WebhookDispatcher {
                WebhookDispatcher(
                    webhooks: webhooks, jobs: PostgresJobRepository(pool: pool), http: http,
                    target: WebhookTarget(allowedHosts: ["hooks.pingvas.invalid"], resolver: { _ in addresses }), interval: .milliseconds(50),
                    retryBase: .milliseconds(1), disableAfter: .seconds(3600), ready: { true }, logger: Self.logger
                )
            }
            for _ in 0..<2 {
                _ = try await pool.execute(
                    "INSERT INTO webhook_deliveries (id, endpoint_id, job_id, event, body) VALUES (gen_random_uuid(), $1::uuid, $2::uuid, 'generation.succeeded', '{}')",
                    endpoint.id, UUID())
            }

            // Unchecked (nothing resolved, so nothing pinned): libcurl's own lookup fails.
            await dispatcher(resolvingTo: []).send(try #require(try await webhooks.claimDue(limit: 1, hold: .seconds(60)).first))
            #expect(receiver.calls.withLock { $0.webhookHosts }.isEmpty)
            // Checked at 127.0.0.1: the attempt goes there, still naming its host.
            await dispatcher(resolvingTo: ["127.0.0.1"]).send(try #require(try await webhooks.claimDue(limit: 1, hold: .seconds(60)).first))
            #expect(receiver.calls.withLock { $0.webhookHosts } == ["hooks.pingvas.invalid:\(port)"])
            let statuses = try await webhooks.deliveries(endpoint: endpoint.id, limit: 10).map(\.status).sorted()
            #expect(statuses == ["delivered", "pending"], "\(statuses)")
        }
    }
}
