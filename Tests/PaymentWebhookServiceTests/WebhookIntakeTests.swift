import Core
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresClient
import Testing
@testable import PaymentWebhookService

/// `POST /webhooks/lemonsqueezy` against the real PostgreSQL: what is stored, what is refused.
@Suite(.timeLimit(.minutes(2))) struct WebhookIntakeTests {
    @Test func forgedMissingAndTruncatedSignaturesGet401AndStoreNothing() async throws {
        let fake = FakeUserService()
        try await PaymentTestHarness.withService(users: fake) { harness, client in
            let body = LemonSqueezyPayloads.order(id: 9001, user: UserID().description)
            let good = harness.signer.sign(Array(body.utf8))
            let forged = WebhookSignature(secret: "not the secret").sign(Array(body.utf8))
            let otherBody = harness.signer.sign(Array((body + " ").utf8))
            for signature: String? in [nil, "", forged, String(good.dropLast()), String(good.prefix(32)), good + "00", otherBody, "zz"] {
                let response = try await harness.deliver(client, body, signature: .some(signature))
                #expect(response.status == .unauthorized)
                let problem = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any]
                #expect(problem?["type"] as? String == "https://pingvas.studio/problems/invalid-signature")
            }
            #expect(try await harness.deliveries().isEmpty)

            let first = try await harness.deliver(client, body)
            #expect(first.status == .ok)
            #expect(String(buffer: first.body) == #"{"duplicate":false,"received":true}"#)
            let again = try await harness.deliver(client, body)
            #expect(String(buffer: again.body) == #"{"duplicate":true,"received":true}"#)
            try await harness.waitUntilSettled()
            let rows = try await harness.deliveries()
            #expect(rows.count == 1)
            #expect(rows.first?.status == "processed")
            #expect(rows.first?.event == "order_created")
        }
    }

    @Test func fiftyConcurrentCopiesOfOneDeliveryGiveOneRowAndOneGrant() async throws {
        let fake = FakeUserService()
        let user = UserID().description
        try await PaymentTestHarness.withService(users: fake) { harness, client in
            let body = LemonSqueezyPayloads.order(id: 9100, user: user)
            let answers = try await withThrowingTaskGroup(of: (HTTPResponse.Status, String).self) { group in
                for _ in 0..<50 {
                    group.addTask {
                        let response = try await harness.deliver(client, body)
                        return (response.status, String(buffer: response.body))
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(answers.allSatisfy { $0.0 == .ok })
            #expect(answers.filter { $0.1.contains(#""duplicate":false"#) }.count == 1)
            try await harness.waitUntilSettled()
            // A window for a second row or grant to show up: none may.
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await harness.deliveries().map(\.status) == ["processed"])
        }
        #expect(fake.calls.count == 1)
        #expect(fake.calls.first == FakeUserService.Grant(userID: user, amount: 500, reference: "ls-order:9100"))
    }

    @Test func unreadableBodiesAndUnknownEventsAreKeptAsDeadAndAnswered200() async throws {
        let fake = FakeUserService()
        try await PaymentTestHarness.withService(users: fake) { harness, client in
            let unknown = #"{"meta": {"event_name": "license_key_created", "test_mode": false}, "data": {"type": "license-keys", "id": "1", "attributes": {}}}"#
            for body in ["this is not json", "{\"meta\": {\"event_name\": ", unknown, "[]"] {
                let response = try await harness.deliver(client, body)
                #expect(response.status == .ok)
            }
            // Stored as dead by the intake itself; a window for the processor to touch them: it must not.
            try await Task.sleep(for: .milliseconds(200))
            let rows = try await harness.deliveries()
            #expect(rows.count == 4)
            #expect(rows.allSatisfy { $0.status == "dead" && $0.attempts == 0 })
            #expect(rows.contains { $0.event == "license_key_created" })
        }
        #expect(fake.calls.isEmpty)
    }

    @Test func testModeDeliveriesAreIgnoredByDefault() async throws {
        let fake = FakeUserService()
        try await PaymentTestHarness.withService(users: fake) { harness, client in
            let response = try await harness.deliver(client, LemonSqueezyPayloads.order(id: 9200, user: UserID().description, testMode: true))
            #expect(response.status == .ok)
            // Stored as ignored by the intake itself; a window for the processor to apply it: it must not.
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await harness.deliveries().map(\.status) == ["ignored"])
        }
        #expect(fake.calls.isEmpty)
    }

    @Test func testModeDeliveriesAreAppliedWhenAccepted() async throws {
        let fake = FakeUserService()
        let user = UserID().description
        try await PaymentTestHarness.withService(users: fake, acceptTestMode: true) { harness, client in
            _ = try await harness.deliver(client, LemonSqueezyPayloads.order(id: 9300, user: user, testMode: true))
            try await harness.waitUntilSettled()
            #expect(try await harness.deliveries().map(\.status) == ["processed"])
        }
        #expect(fake.balance(of: user) == 500)
    }

    @Test func signatureCheckIsExactHexOfTheRawBody() {
        let signer = WebhookSignature(secret: "s3cret")
        let body = Array(#"{"a":1}"#.utf8)
        let signature = signer.sign(body)
        #expect(signature.count == 64)
        #expect(signer.isValid(signature, body: body))
        #expect(!signer.isValid(signature, body: Array(#"{"a":2}"#.utf8)))
        #expect(!signer.isValid(nil, body: body))
        #expect(!WebhookSignature(secret: "").isValid(WebhookSignature(secret: "").sign(body), body: body))
        // Either case of the same hex (as before: the header was lower-cased), nothing else.
        #expect(signer.isValid(signature.uppercased(), body: body))
        #expect(!signer.isValid(String(signature.dropLast()) + "g", body: body))
        #expect(!signer.isValid(" " + signature.dropLast(), body: body))
        #expect(!signer.isValid(signature + " ", body: body))
        #expect(!signer.isValid(String(signature.dropLast(2)) + "é", body: body))
    }

    @Test func deliveryIDsAreBoundInUUIDTextForm() {
        for _ in 0..<100 {
            let id = WebhookController.randomUUID()
            #expect(PostgresDeliveryRepository.text(of: id) == id.uuidString.lowercased())
            #expect(id.uuidString.dropFirst(14).first == "4")
            #expect("89AB".contains(id.uuidString.dropFirst(19).first!))
        }
    }
}
