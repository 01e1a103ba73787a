import Core
import Foundation
import HTTPClient
import HTTPTypes
import PingvasCrypto
import ServiceKit

/// Verifies EdDSA access tokens with the public keys user publishes at `GET /internal/jwks`.
///
/// The gateway holds no signing key: it fetches the key set when it first needs it, again every
/// `refreshInterval`, and when a token names a key id it does not know (at most every
/// `unknownKeyInterval`, 200 ms: such a token waits for the next allowed fetch, so garbage key ids
/// cannot make the gateway hammer user). During a rotation user publishes the old and the new key,
/// so tokens signed with either verify and no one is logged out.
actor JWKSVerifier {
    private let userURL: String
    private let client: CurlHTTPClient
    private let trust: InternalTrust
    private let issuer: String
    private let audience: String
    private let timeout: Duration
    private let refreshInterval: Duration
    private var signers: [String: TokenSigner] = [:]
    private var fetchedAt: ContinuousClock.Instant?
    private var lastAttempt: ContinuousClock.Instant?
    private let unknownKeyInterval = Duration.milliseconds(200)
    /// Tokens verified within the refresh interval: a client's next request skips the signature check
    /// and the hop onto this actor.
    nonisolated let verified: VerifiedTokens

    init(userURL: String, client: CurlHTTPClient, trust: InternalTrust, issuer: String, audience: String, timeout: Duration,
         refreshInterval: Duration = .seconds(60)) {
        self.userURL = userURL
        self.client = client
        self.trust = trust
        self.issuer = issuer
        self.audience = audience
        self.timeout = timeout
        self.refreshInterval = refreshInterval
        self.verified = VerifiedTokens(lifetime: refreshInterval)
    }

    /// The claims of a valid token: from the tokens verified recently, or checked now (`verify`).
    nonisolated func claims(_ token: String) async throws -> AccessClaims {
        if let claims = verified.claims(for: token) { return claims }
        let claims = try await verify(token)
        verified.remember(token, claims: claims)
        return claims
    }

    /// The claims of a valid token. Throws `TokenError` for a bad token, and 503
    /// `upstream-unavailable` when the keys are needed and user cannot give them.
    func verify(_ token: String) async throws -> AccessClaims {
        guard let kid = Self.keyID(of: token) else { throw TokenError.invalid }
        var now = ContinuousClock.now
        if signers[kid] == nil, let last = lastAttempt, now - last < unknownKeyInterval {
            try await Task.sleep(until: last + unknownKeyInterval)
            now = ContinuousClock.now
        }
        let stale = fetchedAt.map { now - $0 > refreshInterval } ?? true
        if stale || signers[kid] == nil {
            do {
                try await refresh()
            } catch where signers.isEmpty || signers[kid] == nil && fetchedAt == nil {
                throw Self.unavailable
            } catch {
                // Keep verifying with the keys we have; the next request tries again.
            }
        }
        guard let signer = signers[kid] else { throw TokenError.invalid }
        return try await signer.verify(token)
    }

    private func refresh() async throws {
        lastAttempt = .now
        let response = try await client.execute(HTTPClientRequest(
            url: userURL + "/internal/jwks", headers: HTTPHeaders().withCredential(of: trust), timeout: timeout
        ))
        guard response.status == 200, let document = try? WireCodec.decodeBody(JWKSDocument.self, from: response.body) else {
            throw Self.unavailable
        }
        var fresh: [String: TokenSigner] = [:]
        for key in document.keys where key.kty == "OKP" && key.crv == "Ed25519" {
            guard let publicKey = Ed25519KeyPair.publicKey(jwkX: key.x), Ed25519KeyPair.keyID(publicKeyBase64: publicKey) == key.kid else { continue }
            fresh[key.kid] = try await TokenSigner(key: .ed25519Public(publicKeyBase64: publicKey), issuer: issuer, audience: audience, kid: key.kid)
        }
        signers = fresh
        fetchedAt = .now
    }

    /// The `kid` of an EdDSA token's header; nil for any other algorithm or a malformed token.
    static func keyID(of token: String) -> String? {
        let segments = token.split(separator: ".", omittingEmptySubsequences: false)
        guard segments.count == 3, segments[0].utf8.count <= 1024 else { return nil }
        var base64 = segments[0].replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64),
            let header = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            header["alg"] as? String == "EdDSA", let kid = header["kid"] as? String, !kid.isEmpty, kid.count <= 64
        else { return nil }
        return kid
    }

    static let unavailable = Problem(
        .serviceUnavailable, type: "upstream-unavailable", detail: "Access tokens cannot be checked right now; retry shortly.",
        headers: [.retryAfter: "2"]
    )
}
