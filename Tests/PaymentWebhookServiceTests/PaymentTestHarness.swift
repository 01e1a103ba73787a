import Core
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import PostgresClient
import ServiceKit
import TestSupport
@testable import PaymentWebhookService

/// One payment-webhook configuration on a fresh schema of the shared test PostgreSQL, with a pool
/// on that schema for looking at the tables.
struct PaymentTestHarness: Sendable {
    static let secret = "whsec_test_0123456789abcdef"
    static let variants = #"{"101": {"plan": "pro", "monthly_credits": 1000}, "102": {"plan": "studio", "monthly_credits": 3000}, "201": {"credits": 500}}"#

    let configuration: PaymentWebhookConfiguration
    let pool: PostgresPool
    let signer = WebhookSignature(secret: PaymentTestHarness.secret)

    /// `environment` adds to or overrides the settings below (e.g. the Lemon Squeezy API ones).
    init(userURL: String, acceptTestMode: Bool = false, environment: [String: String] = [:]) throws {
        let servers = try TestStack.shared()
        var reader = ConfigurationReader(environment: environment.merging([
            "PINGVAS_DATABASE_URL": servers.databaseURL, "PINGVAS_REDIS_URL": servers.redisURL,
            "PINGVAS_DB_SCHEMA": TestStack.uniqueName("pay"), "PINGVAS_LEMONSQUEEZY_SIGNING_SECRET": Self.secret,
            "PINGVAS_LEMONSQUEEZY_VARIANTS": Self.variants, "PINGVAS_USER_URL": userURL,
            "PINGVAS_LEMONSQUEEZY_ACCEPT_TEST_MODE": acceptTestMode ? "true" : "false",
            "PINGVAS_WEBHOOK_POLL_INTERVAL": "50ms", "PINGVAS_WEBHOOK_RETRY_BASE": "50ms", "PINGVAS_WEBHOOK_RETRY_CAP": "200ms",
            "PINGVAS_WEBHOOK_MAX_ATTEMPTS": "40",
        ]) { given, _ in given })
        var configuration = PaymentWebhookConfiguration(reader: &reader)
        try reader.validate()
        // Parallel tests share one Redis: each gets a plan-event stream of its own.
        configuration.keys = PipelineKeys(namespace: TestStack.uniqueName("pw"))
        self.configuration = configuration
        pool = PostgresPool(
            configuration: PostgresConfiguration(url: servers.databaseURL, schema: configuration.service.databaseSchema, maxConnections: 2),
            logger: Logger(label: "test")
        )
    }

    static let signatureHeader = HTTPField.Name("X-Signature")!
    static let eventHeader = HTTPField.Name("X-Event-Name")!

    /// Posts `body` to the webhook route; `signature` nil sends none, the default signs it properly.
    func deliver(_ client: some TestClientProtocol, _ body: String, signature: String?? = .none, event: String = "order_created") async throws -> TestResponse {
        var headers: HTTPFields = [.contentType: "application/json", Self.eventHeader: event]
        switch signature {
        case .none: headers[Self.signatureHeader] = signer.sign(Array(body.utf8))
        case .some(.some(let value)): headers[Self.signatureHeader] = value
        case .some(.none): break
        }
        return try await client.executeRequest(uri: "/webhooks/lemonsqueezy", method: .post, headers: headers, body: ByteBuffer(string: body))
    }

    /// Waits until `/readyz` answers 200 (the migrations are applied).
    func waitUntilReady(_ client: some TestClientProtocol) async throws {
        for _ in 0..<200 {
            if try await client.executeRequest(uri: "/readyz", method: .get, headers: [:], body: nil).status == .ok { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw HarnessError.notReady
    }

    /// `(status, event_name, attempts, last_error)` of every stored delivery, oldest first.
    func deliveries() async throws -> [(status: String, event: String, attempts: Int, error: String?)] {
        try await pool.query("SELECT status, event_name, attempts, last_error FROM webhook_deliveries ORDER BY received_at, id").map {
            (try $0.decode(String.self, "status"), try $0.decode(String.self, "event_name"), try $0.decode(Int.self, "attempts"),
             try $0.decode(String?.self, "last_error"))
        }
    }

    /// Waits until no delivery is pending any more.
    func waitUntilSettled(timeout: Duration = .seconds(20)) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let pending = try await pool.query("SELECT count(*) AS n FROM webhook_deliveries WHERE status = 'pending'").first?.decode(Int.self, "n") ?? 0
            if pending == 0 { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw HarnessError.notSettled
    }

    /// The caller's billing answer as a JSON object.
    func billing(_ client: some TestClientProtocol, user: String) async throws -> (status: HTTPResponse.Status, json: [String: Any]) {
        let response = try await client.executeRequest(
            uri: "/api/v1/billing/subscription", method: .get, headers: [HTTPField.Name("X-User-Id")!: user], body: nil
        )
        let object = (try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))) as? [String: Any] ?? [:]
        return (response.status, object)
    }
}

enum HarnessError: Error {
    case notReady
    case notSettled
}
