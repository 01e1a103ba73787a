import Core
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import PostgresClient
import ServiceKit
import Testing
@testable import PaymentWebhookService

/// No webhook body, signature or secret reaches a log line, whatever happens to the delivery.
@Suite(.timeLimit(.minutes(2))) struct LogHygieneTests {
    @Test func logsCarryNoBodySignatureOrSecret() async throws {
        let sink = LogSink.memory()
        let logger = Logger(label: "payment-webhook") { _ in JSONLogHandler(service: "payment-webhook", level: .trace, sink: sink) }
        let marker = "log-marker-\(UUID().uuidString)"
        let fake = FakeUserService()
        let lemon = FakeLemonSqueezyAPI()
        let user = UserID().description
        let bodies = [
            LemonSqueezyPayloads.order(id: 9700, user: user),
            LemonSqueezyPayloads.order("order_refunded", id: 9700, user: user, status: "refunded"),
            LemonSqueezyPayloads.order(id: 9701, user: UserID().description, testMode: true),
            #"{"meta": {"event_name": "license_key_created"}, "data": {"type": "license-keys", "id": "1", "attributes": {}}}"#,
            "not json at all \(marker)",
        ].map { $0.replacingOccurrences(of: "Ada Lovelace", with: marker).replacingOccurrences(of: "\"id\": \"1\"", with: "\"id\": \"\(marker)\"") }
        #expect(bodies.allSatisfy { $0.contains(marker) })
        let signatures = try await lemon.run { apiURL in
            try await PaymentTestHarness.withService(users: fake, environment: CheckoutTests.environment(apiURL: apiURL), logger: logger) { harness, client in
                var seen: [String] = []
                for body in bodies {
                    let good = harness.signer.sign(Array(body.utf8))
                    let forged = WebhookSignature(secret: "forged-\(marker)").sign(Array(body.utf8))
                    seen += [good, forged]
                    #expect(try await harness.deliver(client, body, signature: .some(forged)).status == .unauthorized)
                    #expect(try await harness.deliver(client, body).status == .ok)
                    #expect(try await harness.deliver(client, body).status == .ok)  // duplicate
                }
                let truncated = String(harness.signer.sign(Array(bodies[0].utf8)).prefix(40))
                #expect(try await harness.deliver(client, bodies[0] + " ", signature: .some(truncated)).status == .unauthorized)
                try await harness.waitUntilSettled()
                let checkout = try await CheckoutTests.checkout(client, user: user, body: #"{"variant": "101"}"#)
                #expect(checkout.status == .created)
                return seen
            }
        }
        let lines = sink.contents.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.contains("webhook received") }, "the test captured the service's log lines")
        #expect(lines.contains { $0.contains("webhook signature rejected") })
        #expect(lines.contains { $0.contains("delivery processed") })
        #expect(lines.contains { $0.contains("checkout created") })
        let forbidden = [marker, PaymentTestHarness.secret, FakeLemonSqueezyAPI.apiKey, FakeLemonSqueezyAPI.checkoutID, "not json at all"] + signatures
        for line in lines {
            for secret in forbidden {
                #expect(!line.contains(secret), "a log line carries \(secret.prefix(12))…: \(line.prefix(300))")
            }
        }
    }
}
