import Core
import Foundation
import HTTPClient

/// The Lemon Squeezy API (JSON:API): creates hosted checkouts (`POST /v1/checkouts`) and cancels
/// the subscriptions of deleted accounts (`DELETE /v1/subscriptions/:id`).
///
/// The caller's user id travels as `checkout_data.custom.user_id`, which Lemon Squeezy hands back
/// as `meta.custom_data.user_id` in the webhooks of the resulting order and subscription. Errors
/// never carry the API key, the request or the answer's body.
struct LemonSqueezyAPIClient: Sendable {
    let apiURL: String
    let apiKey: String
    let storeID: String
    let http: CurlHTTPClient
    let timeout: Duration

    /// The checkout page's URL for `user` buying `variant`.
    func createCheckout(variant: String, user: UserID) async throws(LemonSqueezyAPIError) -> String {
        let request = CheckoutRequest(
            data: .init(
                attributes: .init(checkoutData: .init(custom: ["user_id": user.description])),
                relationships: .init(store: .init(data: .init(type: "stores", id: storeID)), variant: .init(data: .init(type: "variants", id: variant)))
            )
        )
        let body: Data
        do { body = try JSONEncoder().encode(request) } catch { throw .unusableAnswer("request could not be encoded") }
        let response = try await send("POST", "/v1/checkouts", body: Array(body))
        guard (200..<300).contains(response.status) else { throw .status(response.status) }
        guard let answer = try? JSONDecoder().decode(CheckoutAnswer.self, from: Data(response.body)),
            let url = answer.data.attributes.url, url.hasPrefix("https://") || url.hasPrefix("http://")
        else { throw .unusableAnswer("answer has no data.attributes.url") }
        return url
    }

    /// Cancels subscription `id`: Lemon Squeezy stops renewing it, and it runs to the end of the
    /// period already paid, then expires (its webhooks report both). False when Lemon Squeezy does
    /// not know the subscription (404): there is nothing left to cancel.
    func cancelSubscription(_ id: Int64) async throws(LemonSqueezyAPIError) -> Bool {
        let response = try await send("DELETE", "/v1/subscriptions/\(id)")
        if response.status == 404 { return false }
        guard (200..<300).contains(response.status) else { throw .status(response.status) }
        return true
    }

    /// One JSON:API call with the key; any answer is returned, no answer is `.unreachable`.
    private func send(_ method: String, _ path: String, body: [UInt8]? = nil) async throws(LemonSqueezyAPIError) -> HTTPClientResponse {
        do {
            return try await http.execute(
                HTTPClientRequest(
                    method: method, url: apiURL + path,
                    headers: [
                        "Accept": "application/vnd.api+json", "Content-Type": "application/vnd.api+json", "Authorization": "Bearer \(apiKey)",
                    ],
                    body: body, timeout: timeout
                )
            )
        } catch {
            throw .unreachable(error.description)
        }
    }

    struct Identifier: Codable {
        var type: String
        var id: String
    }

    struct Relationship: Codable {
        var data: Identifier
    }

    struct CheckoutRequest: Encodable {
        struct Resource: Encodable {
            var type = "checkouts"
            var attributes: Attributes
            var relationships: Relationships
        }
        struct Attributes: Encodable {
            var checkoutData: CheckoutData
            enum CodingKeys: String, CodingKey { case checkoutData = "checkout_data" }
        }
        struct CheckoutData: Encodable {
            var custom: [String: String]
        }
        struct Relationships: Encodable {
            var store: Relationship
            var variant: Relationship
        }
        var data: Resource
    }

    struct CheckoutAnswer: Decodable {
        struct Resource: Decodable {
            var attributes: Attributes
        }
        struct Attributes: Decodable {
            var url: String?
        }
        var data: Resource
    }
}

extension LemonSqueezyAPIClient: CustomStringConvertible {
    /// Without the API key: lifecycle logs describe the services holding a client.
    var description: String { "LemonSqueezyAPIClient(\(apiURL), store \(storeID))" }
}

/// Why a call to the API failed; descriptions are safe to log.
enum LemonSqueezyAPIError: Error, CustomStringConvertible {
    /// No answer: connection refused, timeout, TLS.
    case unreachable(String)
    /// Lemon Squeezy answered 4xx or 5xx.
    case status(Int)
    /// A 2xx answer without what was asked for (a checkout URL).
    case unusableAnswer(String)

    var description: String {
        switch self {
        case .unreachable(let detail): "Lemon Squeezy unreachable: \(detail)"
        case .status(let code): "Lemon Squeezy answered status \(code)"
        case .unusableAnswer(let detail): "Lemon Squeezy answer unusable: \(detail)"
        }
    }
}
