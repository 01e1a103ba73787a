import Core
import HTTPClient
import HTTPTypes
import ServiceKit

/// user's internal credit API, as generation uses it.
protocol CreditLedger: Sendable {
    /// Holds `amount` for `job`; idempotent by job id. 402 `insufficient-credits` when the balance is too
    /// low, 402 `credits-debt` while a refund has left the account in debt.
    func hold(user: UserID, job: JobID, amount: Credits) async throws -> CreditHoldResponse

    /// Captures or releases the hold of `job`; idempotent. Throws when user could not be asked, so
    /// the caller retries later.
    func settle(job: JobID, _ settlement: Settlement) async throws -> SettleResult
}

/// How a capture or release ended.
enum SettleResult: Sendable, Equatable {
    case settled
    /// 409 `hold-settled`: the hold was already settled the other way; nothing more can be done.
    case conflict
    /// 404: user knows no hold for this job (never held, or already gone).
    case noHold
}

/// `CreditLedger` over HTTP: `POST <base>/internal/credits/holds[/<job id>/capture|release]`.
struct UserClient: CreditLedger {
    let baseURL: String
    let http: CurlHTTPClient
    let timeout: Duration
    let trust: InternalTrust

    func hold(user: UserID, job: JobID, amount: Credits) async throws -> CreditHoldResponse {
        let response = try await post("/internal/credits/holds", body: try WireCodec.encodeBody(CreditHoldRequest(userID: user, jobID: job, amount: amount)))
        switch response.status {
        case 200, 201:
            guard let hold = try? WireCodec.decodeBody(CreditHoldResponse.self, from: response.body) else {
                throw UpstreamProblem.badAnswer("user", status: response.status)
            }
            return hold
        case 402:
            let upstream = UpstreamProblem.passThrough(response)
            if let upstream, upstream.type == "credits-debt" {
                // A refund left the account in debt: the user must pay, not just wait for credits.
                throw Problem(
                    HTTPResponse.Status(code: 402, reasonPhrase: "Payment Required"), type: "credits-debt", title: "Credits in debt",
                    detail: upstream.detail ?? "A refunded payment left your credits in debt; new generations are refused until it is repaid.",
                    extensions: upstream.extensions
                )
            }
            throw Problem(
                HTTPResponse.Status(code: 402, reasonPhrase: "Payment Required"), type: "insufficient-credits", title: "Insufficient credits",
                detail: upstream?.detail ?? "Your credit balance does not cover this generation (\(amount) credits).",
                extensions: (upstream?.extensions ?? [:]).merging(["cost": .int(Int(amount.value))]) { current, _ in current }
            )
        case 503, 504:
            throw Problem(.serviceUnavailable, type: "upstream-unavailable", detail: "The user service is unavailable; try again later.")
        default:
            throw UpstreamProblem.badAnswer("user", status: response.status)
        }
    }

    func settle(job: JobID, _ settlement: Settlement) async throws -> SettleResult {
        let response = try await post(
            "/internal/credits/holds/\(job)/\(settlement.rawValue)", body: try WireCodec.encodeBody(CreditSettleRequest(jobID: job))
        )
        switch response.status {
        case 200, 204: return .settled
        case 404: return .noHold
        case 409: return .conflict
        default: throw UpstreamProblem.badAnswer("user", status: response.status)
        }
    }

    private func post(_ path: String, body: [UInt8]) async throws -> HTTPClientResponse {
        do {
            return try await http.execute(
                HTTPClientRequest(
                    method: "POST", url: baseURL + path, headers: HTTPHeaders([("Content-Type", "application/json")]).withCredential(of: trust),
                    body: body, timeout: timeout
                )
            )
        } catch {
            throw UpstreamProblem.unavailable("user", error)
        }
    }
}
