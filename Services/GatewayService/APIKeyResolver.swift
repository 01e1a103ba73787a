import Core
import Foundation
import HTTPClient
import HTTPTypes
import PingvasCrypto
import ServiceKit

/// Turns `Authorization: Bearer pvk_...` into the key owner's identity and the key's scopes.
///
/// Asks user's `POST /internal/api-keys/resolve` (with the gateway's service credential) and keeps
/// each answer, found or not, for at most `cacheTTL` (1 s), so a revoked key stops working
/// everywhere within a second while a busy key costs user one look-up per second per replica.
actor APIKeyResolver {
    struct Resolved: Sendable, Equatable {
        var identity: CallerIdentity
        var scopes: Set<String>
    }

    private let userURL: String
    private let client: CurlHTTPClient
    private let trust: InternalTrust
    private let timeout: Duration
    private let cacheTTL: Duration
    private var cache: [String: (expires: ContinuousClock.Instant, value: Resolved?)] = [:]
    private static let maxCached = 10_000

    init(userURL: String, client: CurlHTTPClient, trust: InternalTrust, timeout: Duration, cacheTTL: Duration = .seconds(1)) {
        self.userURL = userURL
        self.client = client
        self.trust = trust
        self.timeout = timeout
        self.cacheTTL = min(cacheTTL, .seconds(1))
    }

    /// The key's owner and scopes; nil for an unknown or revoked key. Throws 503 when user cannot answer.
    func resolve(_ key: String) async throws -> Resolved? {
        let digest = SHA256Digest.hex(Array(key.utf8))
        let now = ContinuousClock.now
        if let entry = cache[digest], entry.expires > now { return entry.value }
        let value = try await lookUp(key)
        if cache.count >= Self.maxCached { cache = cache.filter { $0.value.expires > now } }
        if cache.count >= Self.maxCached { cache.removeAll() }
        cache[digest] = (now + cacheTTL, value)
        return value
    }

    private func lookUp(_ key: String) async throws -> Resolved? {
        let response: HTTPClientResponse
        do {
            response = try await client.execute(HTTPClientRequest(
                method: "POST", url: userURL + "/internal/api-keys/resolve",
                headers: HTTPHeaders([("Content-Type", "application/json")]).withCredential(of: trust),
                body: try WireCodec.encodeBody(["key": key]), timeout: timeout
            ))
        } catch {
            throw Self.unavailable
        }
        switch response.status {
        case 200:
            guard let answer = try? WireCodec.decodeBody(APIKeyResolution.self, from: response.body), let userID = UserID(answer.userID) else {
                throw Self.unavailable
            }
            return Resolved(
                identity: CallerIdentity(userID: userID, roles: answer.roles, plan: Plan(rawValue: answer.plan) ?? .free),
                scopes: Set(answer.scopes)
            )
        case 404:
            return nil
        default:
            throw Self.unavailable
        }
    }

    static let unavailable = Problem(
        .serviceUnavailable, type: "upstream-unavailable", detail: "API keys cannot be checked right now; retry shortly.",
        headers: [.retryAfter: "2"]
    )
}
