import Core
import HTTPClient
import Logging

/// gallery's internal API, as generation uses it: `POST <base>/internal/images` with a succeeded
/// job's `generation.completed` payload, before the job is marked succeeded.
protocol GalleryRecorder: Sendable {
    /// Records the images; throws when gallery could not record them.
    func record(_ completed: GenerationCompleted) async throws
}

struct GalleryClient: GalleryRecorder {
    let baseURL: String
    let http: CurlHTTPClient
    let timeout: Duration

    func record(_ completed: GenerationCompleted) async throws {
        let response = try await http.execute(HTTPClientRequest(
            method: "POST", url: baseURL + "/internal/images", headers: ["Content-Type": "application/json"],
            body: try WireCodec.encodeBody(completed), timeout: timeout
        ))
        guard (200..<300).contains(response.status) else { throw UpstreamProblem.badAnswer("gallery", status: response.status) }
    }
}
