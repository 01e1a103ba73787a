import Foundation
import Hummingbird
import PingvasCrypto
import Synchronization
import TestSupport

/// Google and Discord on loopback: discovery, JWKS, the token endpoint (PKCE S256 checked, codes
/// usable once) and Discord's `/api/users/@me`. A test "approves" a login by registering a code.
final class FakeOAuthProvider: Sendable {
    struct Grant: Sendable {
        var challenge: String
        var clientID: String
        var idToken: String?
        var discordUser: [String: any Sendable]?
    }

    static let googleKeySeed = "fake-google"
    private let grants = Mutex<[String: Grant]>([:])
    private let users = Mutex<[String: [String: any Sendable]]>([:])
    let redeemed = Mutex<[String]>([])

    func approve(code: String, _ grant: Grant) { grants.withLock { $0[code] = grant } }

    var application: some ApplicationProtocol {
        let router = Router()
        router.get("/.well-known/openid-configuration") { request, context -> Response in
            let base = "http://\(request.head.authority ?? "127.0.0.1")"
            return Self.json(#"{"issuer":"\#(base)","authorization_endpoint":"\#(base)/authorize","token_endpoint":"\#(base)/token","jwks_uri":"\#(base)/jwks"}"#)
        }
        router.get("/jwks") { _, _ in Self.json(try testJWKS(seeds: [Self.googleKeySeed])) }
        for path in ["/token", "/api/oauth2/token"] {
            router.post(RouterPath(path)) { request, _ -> Response in
                let body = String(buffer: try await request.body.collect(upTo: 1 << 16))
                var form: [String: String] = [:]
                for pair in body.split(separator: "&") {
                    let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? "" }
                    if parts.count == 2 { form[parts[0]] = parts[1] }
                }
                let code = form["code"] ?? ""
                // A code works once, for its client, with the verifier whose S256 is the challenge.
                guard let grant = self.grants.withLock({ $0.removeValue(forKey: code) }), grant.clientID == form["client_id"],
                    Self.s256(form["code_verifier"] ?? "") == grant.challenge
                else { return Self.json(#"{"error":"invalid_grant"}"#, status: .badRequest) }
                self.redeemed.withLock { $0.append(code) }
                if let user = grant.discordUser { self.users.withLock { $0["at-\(code)"] = user } }
                let idToken = grant.idToken.map { #","id_token":"\#($0)""# } ?? ""
                return Self.json(#"{"access_token":"at-\#(code)","token_type":"Bearer"\#(idToken)}"#)
            }
        }
        router.get("/api/users/@me") { request, _ -> Response in
            let token = (request.headers[.authorization] ?? "").replacingOccurrences(of: "Bearer ", with: "")
            guard let user = self.users.withLock({ $0[token] }) else { return Self.json("{}", status: .unauthorized) }
            return Self.json(String(decoding: try JSONSerialization.data(withJSONObject: user), as: UTF8.self))
        }
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }

    static func s256(_ verifier: String) -> String {
        Data(SHA256Digest.hash(Array(verifier.utf8))).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    static func json(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// An ID token as the fake Google signs it.
    static func idToken(
        issuer: String, subject: String, audience: String = "google-client", nonce: String?, email: String?, verified: Bool,
        expiresIn: TimeInterval = 300
    ) async throws -> String {
        let pair = try Ed25519KeyPair(privateKeyBase64: testJWTSigningKey(googleKeySeed))
        return try await IDTokenVerifier.sign(
            privateKeyBase64: pair.privateKeyBase64, kid: Ed25519KeyPair.keyID(publicKeyBase64: pair.publicKeyBase64)!, issuer: issuer,
            subject: subject, audience: audience, nonce: nonce, email: email, emailVerified: verified, expiresAt: Date().addingTimeInterval(expiresIn)
        )
    }
}
