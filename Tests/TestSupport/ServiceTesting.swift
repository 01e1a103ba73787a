public import Foundation
public import HTTPTypes
public import HummingbirdTesting
import PingvasCrypto
import ServiceKit

/// The service credential of `service` as plain header pairs, for clients outside Hummingbird.
public func serviceCredentialHeaders(_ service: String = "generation") -> [(String, String)] {
    InternalTrust(secret: testInternalSecret, serviceID: service).callerHeaders
}

/// `PINGVAS_JWT_SIGNING_KEY` for tests: an Ed25519 private key derived from `seed` (32 bytes of
/// SHA-256, base64), so each test can have its own and knows it.
public func testJWTSigningKey(_ seed: String = "pingvas-test-jwt") -> String {
    Data(SHA256Digest.hash(Array(seed.utf8))).base64EncodedString()
}

/// An access token as the user service signs it with `testJWTSigningKey(seed)` (EdDSA, with its `kid`).
public func testAccessToken(
    userID: String, roles: [String] = ["user"], plan: String = "free", lifetime: Duration = .seconds(600), seed: String = "pingvas-test-jwt"
) async throws -> String {
    let pair = try Ed25519KeyPair(privateKeyBase64: testJWTSigningKey(seed))
    let signer = try await TokenSigner(
        key: .ed25519(privateKeyBase64: pair.privateKeyBase64), issuer: "pingvas-user", audience: "pingvas",
        kid: Ed25519KeyPair.keyID(publicKeyBase64: pair.publicKeyBase64)
    )
    return try await signer.sign(TokenSigner.makeAccessClaims(userID: userID, roles: roles, plan: plan, lifetime: lifetime))
}

/// The JWKS body (`{"keys": [...]}`) user publishes for these test signing keys, for fake user services.
public func testJWKS(seeds: [String] = ["pingvas-test-jwt"]) throws -> String {
    let keys = try seeds.map { seed -> String in
        let pair = try Ed25519KeyPair(privateKeyBase64: testJWTSigningKey(seed))
        let kid = Ed25519KeyPair.keyID(publicKeyBase64: pair.publicKeyBase64)!
        let x = Ed25519KeyPair.jwkX(publicKeyBase64: pair.publicKeyBase64)!
        return #"{"kty":"OKP","crv":"Ed25519","alg":"EdDSA","use":"sig","kid":"\#(kid)","x":"\#(x)"}"#
    }
    return #"{"keys":[\#(keys.joined(separator: ","))]}"#
}

/// `PINGVAS_INTERNAL_SECRET` of every service a test starts: the gateway signs forwarded
/// identities with it, and `HTTPFields.identity` signs with it as the gateway would.
public let testInternalSecret = "pingvas-test-internal-secret-0123456789abcdef"

extension HTTPFields {
    /// The identity headers the gateway puts on a request once it has verified the caller's token
    /// (`X-User-Id`, and `X-User-Roles` / `X-User-Plan` when given), signed with `testInternalSecret`
    /// in `X-User-Signature` as the gateway signs them, so a service behind it accepts them.
    /// `user` nil leaves the caller anonymous (only the roles or plan, if any, are sent).
    /// `signedAt` moves the signature's time (a stale one is refused); `signed: false` leaves it out.
    public static func identity(
        _ user: (any CustomStringConvertible)?, roles: String? = nil, plan: String? = nil, signedAt: Date = Date(), signed: Bool = true
    ) -> HTTPFields {
        var fields: HTTPFields = [:]
        if let user { fields[.identityUserID] = user.description }
        if let roles { fields[.identityUserRoles] = roles }
        if let plan { fields[.identityUserPlan] = plan }
        if signed && !fields.isEmpty {
            let trust = InternalTrust(secret: testInternalSecret, serviceID: "gateway")
            fields[.identityUserSignature] = trust.identitySignature(
                userID: user?.description ?? "", roles: roles ?? "", plan: plan ?? "", at: signedAt
            )
        }
        return fields
    }

    /// The service credential (`X-Internal-Caller`, `X-Internal-Token`) of `service` for `/internal/*` routes.
    public static func serviceCredential(_ service: String = "generation") -> HTTPFields {
        var fields: HTTPFields = [:]
        for (name, value) in InternalTrust(secret: testInternalSecret, serviceID: service).callerHeaders {
            fields[HTTPField.Name(name)!] = value
        }
        return fields
    }

    /// These fields with `other`'s set over them (a name in both takes `other`'s value).
    public func merging(_ other: HTTPFields) -> HTTPFields {
        var result = self
        for field in other { result[field.name] = field.value }
        return result
    }
}

extension HTTPField.Name {
    /// The names the gateway uses; spelled out here so that the tests pin the wire contract.
    public static let identityUserID = HTTPField.Name("X-User-Id")!
    public static let identityUserRoles = HTTPField.Name("X-User-Roles")!
    public static let identityUserPlan = HTTPField.Name("X-User-Plan")!
    public static let identityUserSignature = HTTPField.Name("X-User-Signature")!
}

extension TestClientProtocol {
    /// Waits until the application's `/readyz` answers 200 (its migrations are applied and its
    /// dependencies answer); throws `EventuallyTimeout` otherwise.
    public func waitUntilReady(timeout: Duration = .seconds(30), fileID: String = #fileID, line: Int = #line) async throws {
        try await eventually(timeout: timeout, pollEvery: .milliseconds(50), "/readyz answers 200", fileID: fileID, line: line) {
            try await executeRequest(uri: "/readyz", method: .get, headers: [:], body: nil).status == .ok
        }
    }
}
