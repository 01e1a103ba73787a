import Core
import Foundation
import HTTPClient
import ServiceKit

/// `UserCredits` over HTTP: `POST <user>/internal/credits/grants` and `.../debits`, both with
/// `{user_id, amount, reason, reference}`.
struct UserCreditsClient: UserCredits {
    let baseURL: String
    let http: CurlHTTPClient
    let timeout: Duration
    let trust: InternalTrust

    struct LedgerRequest: Encodable {
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
        try await post("grants", user: user, amount: amount, reason: reason, reference: reference)
    }

    func debit(user: UserID, amount: Int64, reason: String, reference: String) async throws {
        try await post("debits", user: user, amount: amount, reason: reason, reference: reference)
    }

    private func post(_ kind: String, user: UserID, amount: Int64, reason: String, reference: String) async throws {
        let body = try JSONEncoder().encode(LedgerRequest(userID: user.description, amount: amount, reason: reason, reference: reference))
        let response = try await http.execute(
            HTTPClientRequest(
                method: "POST", url: baseURL + "/internal/credits/" + kind, headers: HTTPHeaders([("Content-Type", "application/json")]).withCredential(of: trust),
                body: Array(body), timeout: timeout
            )
        )
        switch response.status {
        case 200..<300:
            return
        case 404, 409, 422:
            throw ProcessingError.permanent("user service refused \(kind) \(reference) with status \(response.status)")
        default:
            throw ProcessingError.retry("user service answered \(kind) \(reference) with status \(response.status)")
        }
    }
}
