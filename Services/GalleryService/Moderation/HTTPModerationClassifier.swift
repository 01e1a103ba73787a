import Foundation
import HTTPClient
import Logging
import ServiceKit

/// The external classifier at `PINGVAS_MODERATION_URL`: `POST` of a `ModerationSubmission` as JSON,
/// answered 200 `{"allowed": bool, "reason": "..."}`.
///
/// Each attempt is limited to `timeout`; transport failures and 5xx are tried three times in all,
/// any other answer is final. No usable answer throws `moderation-unavailable` (503): the caller
/// keeps the image from becoming public.
struct HTTPModerationClassifier: Sendable {
    let url: String
    let timeout: Duration
    let client: CurlHTTPClient
    let logger: Logger
    var attempts = 3

    func classify(_ submission: ModerationSubmission) async throws -> ModerationPolicy.Verdict {
        let body = Array(try JSONEncoder().encode(submission))
        for attempt in 1...attempts {
            do {
                let response = try await client.execute(HTTPClientRequest(
                    method: "POST", url: url, headers: ["Content-Type": "application/json"], body: body, timeout: timeout
                ))
                if response.status == 200, let answer = try? JSONDecoder().decode(Answer.self, from: Data(response.body)) {
                    return answer.allowed ? .allowed : .rejected(answer.reason ?? "The moderation service refused it.")
                }
                logger.warning("moderation classifier answered unusably", metadata: ["status": "\(response.status)", "attempt": "\(attempt)"])
                if response.status < 500 { break }
            } catch {
                logger.warning("moderation classifier unreachable", metadata: ["error": "\(error)", "attempt": "\(attempt)"])
            }
            if attempt < attempts { try await Task.sleep(for: .milliseconds(100 * attempt)) }
        }
        throw Problem.unavailable(
            "The moderation service did not answer; the image stays as it was. Try again later.", type: "moderation-unavailable"
        )
    }

    struct Answer: Decodable {
        var allowed: Bool
        var reason: String?
    }
}
