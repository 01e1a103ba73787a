import Foundation
import Hummingbird
import HummingbirdTesting
import Synchronization

/// A stand-in for Lemon Squeezy's API on 127.0.0.1: `POST /v1/checkouts` checks every request the
/// way the real API would take it and answers a JSON:API checkout, or `failWith` when set;
/// `DELETE /v1/subscriptions/:id` records the cancellation and answers with `cancelAnswers` first
/// (one each), then 404 for an id in `unknownSubscriptions` and 200 for the rest.
final class FakeLemonSqueezyAPI: Sendable {
    static let apiKey = "ls_test_api_key_7f3c9a1e5b"
    static let storeID = "12345"

    /// One request as received, with what was wrong with it (empty when it was right).
    struct Received: Sendable {
        var userID: String?
        var variantID: String?
        var problems: [String]
    }

    /// One `DELETE /v1/subscriptions/:id` as received: the id, what was wrong with the request, the answer.
    struct Cancellation: Sendable {
        var subscriptionID: Int64
        var problems: [String]
        var status: Int
    }

    let failWith: HTTPResponse.Status?
    let unknownSubscriptions: Set<Int64>
    private let state = Mutex<[Received]>([])
    private let cancelState: Mutex<(answers: [HTTPResponse.Status], received: [Cancellation])>

    init(failWith: HTTPResponse.Status? = nil, cancelAnswers: [HTTPResponse.Status] = [], unknownSubscriptions: Set<Int64> = []) {
        self.failWith = failWith
        self.unknownSubscriptions = unknownSubscriptions
        cancelState = Mutex((cancelAnswers, []))
    }

    var received: [Received] { state.withLock { $0 } }
    var cancellations: [Cancellation] { cancelState.withLock { $0.received } }

    /// Runs the fake on a free port and calls `body` with its base URL.
    func run<T: Sendable>(_ body: @Sendable @escaping (String) async throws -> T) async throws -> T {
        let router = Router()
        router.on("/v1/checkouts", method: .post) { request, _ -> Response in
            let bytes = try await request.body.collect(upTo: 1 << 16)
            let received = Self.check(request, body: Data(bytes.readableBytesView))
            self.state.withLock { $0.append(received) }
            if let failWith = self.failWith {
                return Self.json(failWith, #"{"jsonapi":{"version":"1.0"},"errors":[{"detail":"Unauthenticated.","status":"\#(failWith.code)","title":"Unauthorized"}]}"#)
            }
            guard received.problems.isEmpty else {
                return Self.json(.unprocessableContent, #"{"errors":[{"detail":"request did not pass the fake's checks"}]}"#)
            }
            return Self.json(.created, Self.checkout(store: Self.storeID, variant: received.variantID ?? "", user: received.userID ?? ""))
        }
        router.on("/v1/subscriptions/:id", method: .delete) { request, context -> Response in
            var problems: [String] = []
            if request.headers[.authorization] != "Bearer \(Self.apiKey)" { problems.append("authorization header") }
            if request.headers[.accept] != "application/vnd.api+json" { problems.append("accept \(request.headers[.accept] ?? "none")") }
            guard let id = context.parameters.get("id").flatMap(Int64.init) else {
                return Self.json(.notFound, #"{"errors":[{"detail":"not a subscription id","status":"404"}]}"#)
            }
            let status: HTTPResponse.Status = self.cancelState.withLock { state in
                let status: HTTPResponse.Status =
                    !problems.isEmpty ? .unauthorized
                    : !state.answers.isEmpty ? state.answers.removeFirst()
                    : self.unknownSubscriptions.contains(id) ? .notFound : .ok
                state.received.append(Cancellation(subscriptionID: id, problems: problems, status: status.code))
                return status
            }
            guard status == .ok else {
                return Self.json(status, #"{"jsonapi":{"version":"1.0"},"errors":[{"detail":"fake answer","status":"\#(status.code)"}]}"#)
            }
            return Self.json(.ok, Self.cancelledSubscription(id))
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        return try await app.test(.live) { client in
            guard let port = client.port else { throw FakeUserServiceError.noPort }
            return try await body("http://127.0.0.1:\(port)")
        }
    }

    static func check(_ request: Request, body: Data) -> Received {
        var problems: [String] = []
        if request.method != .post { problems.append("method \(request.method)") }
        if request.uri.path != "/v1/checkouts" { problems.append("path \(request.uri.path)") }
        if request.headers[.authorization] != "Bearer \(apiKey)" { problems.append("authorization header") }
        if request.headers[.contentType] != "application/vnd.api+json" { problems.append("content type \(request.headers[.contentType] ?? "none")") }
        if request.headers[.accept] != "application/vnd.api+json" { problems.append("accept \(request.headers[.accept] ?? "none")") }
        let object = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any]
        let data = object?["data"] as? [String: Any]
        if data?["type"] as? String != "checkouts" { problems.append("data.type") }
        let relationships = data?["relationships"] as? [String: Any]
        let store = (relationships?["store"] as? [String: Any])?["data"] as? [String: Any]
        if store?["type"] as? String != "stores" || store?["id"] as? String != storeID { problems.append("store relationship \(String(describing: store))") }
        let variant = (relationships?["variant"] as? [String: Any])?["data"] as? [String: Any]
        if variant?["type"] as? String != "variants" || variant?["id"] as? String == nil { problems.append("variant relationship") }
        let checkoutData = (data?["attributes"] as? [String: Any])?["checkout_data"] as? [String: Any]
        let userID = (checkoutData?["custom"] as? [String: Any])?["user_id"] as? String
        if userID == nil { problems.append("checkout_data.custom.user_id") }
        return Received(userID: userID, variantID: variant?["id"] as? String, problems: problems)
    }

    static func json(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "application/vnd.api+json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// The shape of Lemon Squeezy's answer to a cancelled subscription (trimmed).
    static func cancelledSubscription(_ id: Int64) -> String {
        """
        {
          "jsonapi": {"version": "1.0"},
          "links": {"self": "https://api.lemonsqueezy.com/v1/subscriptions/\(id)"},
          "data": {
            "type": "subscriptions",
            "id": "\(id)",
            "attributes": {
              "store_id": \(storeID), "variant_id": 101, "status": "cancelled", "status_formatted": "Cancelled",
              "cancelled": true, "pause": null, "renews_at": "2030-02-01T10:00:00.000000Z", "ends_at": "2030-02-01T10:00:00.000000Z",
              "created_at": "2030-01-01T10:00:00.000000Z", "updated_at": "2030-01-15T10:00:00.000000Z", "test_mode": false
            }
          }
        }
        """
    }

    static let checkoutID = "5e8b546c-c561-4a2c-a586-40c18bb2a195"
    static let checkoutURL = "https://pingvas.lemonsqueezy.com/checkout/custom/\(checkoutID)?signature=d73c7f4e1c1f1f0a7e8b"

    /// The shape of Lemon Squeezy's answer to a created checkout.
    static func checkout(store: String, variant: String, user: String) -> String {
        """
        {
          "jsonapi": {"version": "1.0"},
          "links": {"self": "https://api.lemonsqueezy.com/v1/checkouts/\(checkoutID)"},
          "data": {
            "type": "checkouts",
            "id": "\(checkoutID)",
            "attributes": {
              "store_id": \(store),
              "variant_id": \(variant),
              "custom_price": null,
              "product_options": {"name": "", "description": "", "media": [], "redirect_url": "", "receipt_button_text": "",
                                  "receipt_link_url": "", "receipt_thank_you_note": "", "enabled_variants": []},
              "checkout_options": {"embed": false, "media": true, "logo": true, "desc": true, "discount": true,
                                   "subscription_preview": true, "button_color": "#7047EB"},
              "checkout_data": {"email": "", "name": "", "billing_address": [], "tax_number": "", "discount_code": "",
                                "custom": {"user_id": "\(user)"}, "variant_quantities": []},
              "preview": false,
              "expires_at": null,
              "created_at": "2030-01-01T10:00:00.000000Z",
              "updated_at": "2030-01-01T10:00:00.000000Z",
              "test_mode": false,
              "url": "\(checkoutURL)"
            },
            "relationships": {
              "store": {"links": {"related": "https://api.lemonsqueezy.com/v1/checkouts/\(checkoutID)/store",
                                  "self": "https://api.lemonsqueezy.com/v1/checkouts/\(checkoutID)/relationships/store"}},
              "variant": {"links": {"related": "https://api.lemonsqueezy.com/v1/checkouts/\(checkoutID)/variant",
                                    "self": "https://api.lemonsqueezy.com/v1/checkouts/\(checkoutID)/relationships/variant"}}
            },
            "links": {"self": "https://api.lemonsqueezy.com/v1/checkouts/\(checkoutID)"}
          }
        }
        """
    }
}
