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
            "PINGVAS_DATABASE_URL": servers.databaseURL, "PINGVAS_REDIS_URL": servers.redisURL, "PINGVAS_INTERNAL_SECRET": testInternalSecret, 
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


    /// `(status, event_name, attempts, last_error)` of every stored delivery, oldest first.
    func deliveries() async throws -> [(status: String, event: String, attempts: Int, error: String?)] {
        try await pool.query("SELECT status, event_name, attempts, last_error FROM webhook_deliveries ORDER BY received_at, id").map {
            (try $0.decode(String.self, "status"), try $0.decode(String.self, "event_name"), try $0.decode(Int.self, "attempts"),
             try $0.decode(String?.self, "last_error"))
        }
    }

    /// How many deliveries are still pending.
    func pendingCount() async throws -> Int {
        try await pool.query("SELECT count(*) AS n FROM webhook_deliveries WHERE status = 'pending'").first?.decode(Int.self, "n") ?? 0
    }

    /// Waits until no delivery is pending any more.
    func waitUntilSettled(timeout: Duration = .seconds(20), fileID: String = #fileID, line: Int = #line) async throws {
        try await eventually(timeout: timeout, pollEvery: .milliseconds(50), "no delivery is pending", fileID: fileID, line: line) {
            try await pendingCount() == 0
        }
    }

    /// The caller's billing answer as a JSON object.
    func billing(_ client: some TestClientProtocol, user: String) async throws -> (status: HTTPResponse.Status, json: [String: Any]) {
        let response = try await client.executeRequest(uri: "/api/v1/billing/subscription", method: .get, headers: .identity(user), body: nil)
        let object = (try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))) as? [String: Any] ?? [:]
        return (response.status, object)
    }
}

// MARK: running the service

extension PaymentTestHarness {
    /// The service with `fake` as its user service, around `body`: a fresh schema, the application
    /// on it once `/readyz` is 200, and everything closed afterwards.
    static func withService<T: Sendable>(
        users fake: FakeUserService, acceptTestMode: Bool = false, environment: [String: String] = [:], logger: Logger? = nil,
        _ body: @escaping @Sendable (PaymentTestHarness, any TestClientProtocol) async throws -> T
    ) async throws -> T {
        try await fake.run { userURL in
            try await withService(userURL: userURL, acceptTestMode: acceptTestMode, environment: environment, logger: logger, body)
        }
    }

    /// The service with its user service at `userURL` (e.g. nothing listening), around `body`;
    /// `waitUntilReady` false starts `body` without waiting for the migrations.
    static func withService<T: Sendable>(
        userURL: String, acceptTestMode: Bool = false, environment: [String: String] = [:], logger: Logger? = nil,
        waitUntilReady: Bool = true, _ body: @Sendable (PaymentTestHarness, any TestClientProtocol) async throws -> T
    ) async throws -> T {
        try await with(userURL: userURL, acceptTestMode: acceptTestMode, environment: environment) { harness in
            try await harness.run(logger: logger, waitUntilReady: waitUntilReady) { client in try await body(harness, client) }
        }
    }

    /// A harness (a fresh schema and a pool on it) for `body`, closed afterwards; `body` runs the
    /// application itself, once or more (`run`).
    static func with<T>(
        userURL: String, acceptTestMode: Bool = false, environment: [String: String] = [:], _ body: (PaymentTestHarness) async throws -> T
    ) async throws -> T {
        let harness = try PaymentTestHarness(userURL: userURL, acceptTestMode: acceptTestMode, environment: environment)
        return try await withClosing(harness, close: { await $0.pool.close() }, body)
    }

    /// The application of `configuration` (this harness's by default) around `body`, once `/readyz` is 200.
    func run<T: Sendable>(
        configuration: PaymentWebhookConfiguration? = nil, logger: Logger? = nil, waitUntilReady: Bool = true,
        _ body: @Sendable (any TestClientProtocol) async throws -> T
    ) async throws -> T {
        try await buildApplication(configuration: configuration ?? self.configuration, logger: logger).test(.router) { client in
            if waitUntilReady { try await client.waitUntilReady() }
            return try await body(client)
        }
    }
}
