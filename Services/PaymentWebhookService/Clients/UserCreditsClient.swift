import Core
import Foundation
import HTTPClient

/// `CreditGranter` over HTTP: `POST <user>/internal/credits/grants {user_id, amount, reason, reference}`.
struct UserCreditsClient: CreditGranter {
    let baseURL: String
    let http: CurlHTTPClient
    let timeout: Duration

    struct GrantRequest: Encodable {
        var userID: String
        var amount: Int64
        var reason: String
        var reference: String
        enum CodingKeys: String, CodingKey {
            case amount, reason, reference
            case userID = "user_id"
        }
    }

    func grant(user: UserID, amount: Int64, reason: String, reference: String) async throws {
        let body = try JSONEncoder().encode(GrantRequest(userID: user.description, amount: amount, reason: reason, reference: reference))
        let response = try await http.execute(
            HTTPClientRequest(
                method: "POST", url: baseURL + "/internal/credits/grants", headers: ["Content-Type": "application/json"],
                body: Array(body), timeout: timeout
            )
        )
        switch response.status {
        case 200..<300:
            return
        case 404, 409, 422:
            throw ProcessingError.permanent("user service refused grant \(reference) with status \(response.status)")
        default:
            throw ProcessingError.retry("user service answered grant \(reference) with status \(response.status)")
        }
    }
}
