import Core
import HTTPClient
import HTTPTypes
import ServiceKit

/// model-router's internal API, as generation uses it.
protocol ModelRouting: Sendable {
    /// Validates and prices `request` and picks its queue.
    ///
    /// Throws the router's 422 problem (`validation-failed` with `errors`, `unknown-model`) as is,
    /// and 502/503 `upstream-unavailable` when the router cannot answer.
    func route(_ request: RouteRequest) async throws -> RouteResponse
}

/// `ModelRouting` over HTTP: `POST <base>/internal/route`.
struct ModelRouterClient: ModelRouting {
    let baseURL: String
    let http: CurlHTTPClient
    let timeout: Duration
    let trust: InternalTrust

    func route(_ request: RouteRequest) async throws -> RouteResponse {
        let body = try WireCodec.encodeBody(request)
        let response: HTTPClientResponse
        do {
            response = try await http.execute(
                HTTPClientRequest(
                    method: "POST", url: "\(baseURL)/internal/route", headers: HTTPHeaders([("Content-Type", "application/json")]).withCredential(of: trust),
                    body: body, timeout: timeout
                )
            )
        } catch {
            throw UpstreamProblem.unavailable("model-router", error)
        }
        switch response.status {
        case 200:
            guard let routed = try? WireCodec.decodeBody(RouteResponse.self, from: response.body) else {
                throw UpstreamProblem.badAnswer("model-router", status: response.status)
            }
            return routed
        case 422:
            throw UpstreamProblem.passThrough(response) ?? Problem.validation(["request": "rejected by the model router"])
        case 503, 504:
            throw Problem(.serviceUnavailable, type: "upstream-unavailable", detail: "The model-router service is unavailable; try again later.")
        default:
            throw UpstreamProblem.badAnswer("model-router", status: response.status)
        }
    }
}
