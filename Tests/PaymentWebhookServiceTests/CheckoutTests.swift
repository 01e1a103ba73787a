import Core
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresClient
import ServiceKit
import TestSupport
import Testing
@testable import PaymentWebhookService

/// `POST /api/v1/billing/checkout` against a local Lemon Squeezy API that checks what it receives.
@Suite(.timeLimit(.minutes(2))) struct CheckoutTests {
    /// Nothing listens on port 1: the user service (checkout never calls it), or a Lemon Squeezy that is down.
    static let nobody = "http://127.0.0.1:1"

    static func environment(apiURL: String) -> [String: String] {
        [
            "PINGVAS_LEMONSQUEEZY_API_URL": apiURL, "PINGVAS_LEMONSQUEEZY_API_KEY": FakeLemonSqueezyAPI.apiKey,
            "PINGVAS_LEMONSQUEEZY_STORE_ID": FakeLemonSqueezyAPI.storeID,
        ]
    }

    static func checkout(_ client: some TestClientProtocol, user: String?, body: String) async throws -> (status: HTTPResponse.Status, text: String, json: [String: Any]) {
        let headers = HTTPFields.identity(user).merging([.contentType: "application/json"])
        let response = try await client.executeRequest(uri: "/api/v1/billing/checkout", method: .post, headers: headers, body: ByteBuffer(string: body))
        let text = String(buffer: response.body)
        return (response.status, text, (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:])
    }

    @Test func checkoutCreatesALemonSqueezyCheckoutCarryingTheCallersID() async throws {
        let lemon = FakeLemonSqueezyAPI()
        let user = UserID().description
        try await lemon.run { apiURL in
            try await PaymentTestHarness.withService(userURL: Self.nobody, environment: Self.environment(apiURL: apiURL), waitUntilReady: false) { _, client in
                let subscription = try await Self.checkout(client, user: user, body: #"{"variant": "101"}"#)
                #expect(subscription.status == .created)
                #expect(subscription.json["checkout_url"] as? String == FakeLemonSqueezyAPI.checkoutURL)
                // A number is accepted as well as a string.
                let pack = try await Self.checkout(client, user: user, body: #"{"variant": 201}"#)
                #expect(pack.status == .created)
                #expect(pack.json["checkout_url"] as? String == FakeLemonSqueezyAPI.checkoutURL)
            }
        }
        let received = lemon.received
        #expect(received.count == 2)
        #expect(received.allSatisfy { $0.problems.isEmpty }, "the fake saw: \(received.flatMap(\.problems))")
        #expect(received.map(\.userID) == [user, user])
        #expect(received.map(\.variantID) == ["101", "201"])
    }

    @Test func checkoutRefusesUnknownVariantsAndCallersWithoutIdentity() async throws {
        let lemon = FakeLemonSqueezyAPI()
        try await lemon.run { apiURL in
            let environment = Self.environment(apiURL: apiURL + "/v1/")
            try await PaymentTestHarness.withService(userURL: Self.nobody, environment: environment, waitUntilReady: false) { harness, client in
                #expect(harness.configuration.apiURL == apiURL)
                for body in [#"{"variant": "999"}"#, #"{"variant": ""}"#, "{}", #"{"variant": null}"#] {
                    let answer = try await Self.checkout(client, user: UserID().description, body: body)
                    #expect(answer.status == .unprocessableContent, "\(body)")
                    #expect(answer.json["type"] as? String == "https://pingvas.studio/problems/validation-failed")
                }
                let anonymous = try await Self.checkout(client, user: nil, body: #"{"variant": "101"}"#)
                #expect(anonymous.status == .unauthorized)
                let notJSON = try await Self.checkout(client, user: UserID().description, body: "variant=101")
                #expect(notJSON.status == .badRequest)
            }
        }
        #expect(lemon.received.isEmpty)
    }

    @Test func providerFailuresAre502WithoutTheAPIKey() async throws {
        for status in [HTTPResponse.Status.unauthorized, .unprocessableContent, .internalServerError, .serviceUnavailable] {
            let lemon = FakeLemonSqueezyAPI(failWith: status)
            try await lemon.run { apiURL in
                try await PaymentTestHarness.withService(userURL: Self.nobody, environment: Self.environment(apiURL: apiURL), waitUntilReady: false) { _, client in
                    let answer = try await Self.checkout(client, user: UserID().description, body: #"{"variant": "102"}"#)
                    #expect(answer.status == .badGateway, "Lemon Squeezy answered \(status)")
                    #expect(answer.json["type"] as? String == "https://pingvas.studio/problems/payment-provider-unavailable")
                    #expect(!answer.text.contains(FakeLemonSqueezyAPI.apiKey))
                }
            }
            #expect(lemon.received.count == 1)
        }
        // Nothing listens on port 1: unreachable is a 502 too.
        try await PaymentTestHarness.withService(userURL: Self.nobody, environment: Self.environment(apiURL: Self.nobody), waitUntilReady: false) { _, client in
            let answer = try await Self.checkout(client, user: UserID().description, body: #"{"variant": "101"}"#)
            #expect(answer.status == .badGateway)
            #expect(answer.json["type"] as? String == "https://pingvas.studio/problems/payment-provider-unavailable")
            #expect(!answer.text.contains(FakeLemonSqueezyAPI.apiKey))
        }
    }

    @Test func checkoutIsOffWithoutAnAPIKey() async throws {
        try await PaymentTestHarness.withService(userURL: Self.nobody, waitUntilReady: false) { harness, client in
            #expect(harness.configuration.apiKey == nil)
            #expect(harness.configuration.apiURL == "https://api.lemonsqueezy.com")
            let answer = try await Self.checkout(client, user: UserID().description, body: #"{"variant": "101"}"#)
            #expect(answer.status == .serviceUnavailable)
            #expect(answer.json["type"] as? String == "https://pingvas.studio/problems/payment-provider-unavailable")
        }
    }

    @Test func anAPIKeyWithoutAStoreIsAConfigurationError() {
        var reader = ConfigurationReader(environment: [
            "PINGVAS_DATABASE_URL": "postgres://x@127.0.0.1/x", "PINGVAS_REDIS_URL": "redis://127.0.0.1:6379",
            "PINGVAS_LEMONSQUEEZY_SIGNING_SECRET": "s", "PINGVAS_USER_URL": "http://127.0.0.1:1",
            "PINGVAS_LEMONSQUEEZY_API_KEY": "key-that-must-not-show",
        ])
        _ = PaymentWebhookConfiguration(reader: &reader)
        #expect(throws: (any Error).self) { try reader.validate() }
        let summary = reader.summary
        #expect(!summary.contains("key-that-must-not-show"))
    }
}
