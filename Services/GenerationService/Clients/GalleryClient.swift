import Core
import HTTPClient
import Logging
import ServiceKit
import Synchronization

/// gallery's internal API, as generation uses it: `POST <base>/internal/images` with a succeeded
/// job's `generation.completed` payload, before the job is marked succeeded.
protocol GalleryRecorder: Sendable {
    /// Records the images; throws when gallery could not record them.
    func record(_ completed: GenerationCompleted) async throws
}

/// Over HTTP, with a short timeout and a breaker: after a failure gallery is not asked for
/// `cooldown`, so a gallery that hangs delays one job's completion by `timeout`, not every job's
/// (their images come with the `generation.completed` event meanwhile).
final class GalleryClient: GalleryRecorder {
    let baseURL: String
    let http: CurlHTTPClient
    /// The service credential `/internal/*` needs.
    let trust: InternalTrust
    let timeout: Duration
    let cooldown: Duration
    private let downUntil = Mutex<ContinuousClock.Instant?>(nil)

    init(baseURL: String, http: CurlHTTPClient, trust: InternalTrust, timeout: Duration = .seconds(2), cooldown: Duration = .seconds(30)) {
        self.baseURL = baseURL
        self.http = http
        self.trust = trust
        self.timeout = timeout
        self.cooldown = cooldown
    }

    func record(_ completed: GenerationCompleted) async throws {
        if let until = downUntil.withLock({ $0 }), ContinuousClock.now < until { throw GalleryUnavailable() }
        do {
            try await post(completed)
            downUntil.withLock { $0 = nil }
        } catch {
            downUntil.withLock { $0 = .now + cooldown }
            throw error
        }
    }

    private func post(_ completed: GenerationCompleted) async throws {
        let response = try await http.execute(HTTPClientRequest(
            method: "POST", url: baseURL + "/internal/images", headers: HTTPHeaders([("Content-Type", "application/json")]).withCredential(of: trust),
            body: try WireCodec.encodeBody(completed), timeout: timeout
        ))
        guard (200..<300).contains(response.status) else { throw UpstreamProblem.badAnswer("gallery", status: response.status) }
    }
}

/// gallery failed a moment ago: not asked again until the cooldown is over.
struct GalleryUnavailable: Error, CustomStringConvertible {
    var description: String { "gallery failed recently; not asked during the cooldown" }
}
