import Foundation
import PingvasCrypto
import Testing

@Suite(.timeLimit(.minutes(2))) struct TokenSignerTests {
    static let secret = "0123456789abcdef0123456789abcdef-test-secret"

    func hmacSigner(secret: String = secret, issuer: String = "pingvas-user", audience: String = "pingvas-api") async throws -> TokenSigner {
        try await TokenSigner(key: .hmac(secret: secret), issuer: issuer, audience: audience)
    }

    func claims(lifetime: Duration = .seconds(900), now: Date = .now) -> AccessClaims {
        TokenSigner.makeAccessClaims(userID: "8e0c1f9a-3b7e-4c2d-9a51-6f0e2d4b7c10", roles: ["user", "admin"], plan: "pro", lifetime: lifetime, now: now)
    }

    @Test func hs256RoundTrip() async throws {
        let signer = try await hmacSigner()
        let original = claims()
        let token = try await signer.sign(original)
        #expect(token.split(separator: ".").count == 3)
        let verified = try await signer.verify(token)
        var expected = original
        expected.iss = "pingvas-user"
        expected.aud = "pingvas-api"
        #expect(verified == expected)
        #expect(verified.roles == ["user", "admin"])
        #expect(verified.exp.timeIntervalSince(verified.iat) == 900)
        #expect(signer.algorithm == "HS256")
        let header = try #require(try Self.decodeSegment(token, 0))
        #expect(header["alg"] as? String == "HS256")
        let payload = try #require(try Self.decodeSegment(token, 1))
        #expect(payload["exp"] is Int)
        #expect(payload["sub"] as? String == original.sub)
    }

    @Test func eddsaRoundTripAndPublicKeyVerifier() async throws {
        let pair = try Ed25519KeyPair.generate()
        #expect(Data(base64Encoded: pair.privateKeyBase64)?.count == 32)
        #expect(Data(base64Encoded: pair.publicKeyBase64)?.count == 32)
        #expect(try Ed25519KeyPair(privateKeyBase64: pair.privateKeyBase64) == pair)

        let signer = try await TokenSigner(key: .ed25519(privateKeyBase64: pair.privateKeyBase64), issuer: "i", audience: "a")
        let gateway = try await TokenSigner(key: .ed25519Public(publicKeyBase64: pair.publicKeyBase64), issuer: "i", audience: "a")
        let token = try await signer.sign(claims())
        #expect(try Self.decodeSegment(token, 0)?["alg"] as? String == "EdDSA")
        #expect(try await signer.verify(token).sub == claims().sub)
        #expect(try await gateway.verify(token).plan == "pro")
        await #expect(throws: TokenError.verifyOnly) { try await gateway.sign(claims()) }

        let stranger = try await TokenSigner(key: .ed25519(privateKeyBase64: Ed25519KeyPair.generate().privateKeyBase64), issuer: "i", audience: "a")
        await #expect(throws: TokenError.invalid) { try await gateway.verify(try await stranger.sign(claims())) }
    }

    @Test func shortOrBadKeysAreRefused() async {
        await #expect(throws: TokenError.self) { try await hmacSigner(secret: "too-short") }
        await #expect(throws: TokenError.self) { try await TokenSigner(key: .ed25519(privateKeyBase64: "bm9wZQ=="), issuer: "i", audience: "a") }
        await #expect(throws: TokenError.self) { try await TokenSigner(key: .ed25519Public(publicKeyBase64: "***"), issuer: "i", audience: "a") }
        #expect(throws: TokenError.self) { try Ed25519KeyPair(privateKeyBase64: "") }
    }

    @Test func tamperedPayloadIsRejected() async throws {
        let signer = try await hmacSigner()
        let token = try await signer.sign(claims())
        var parts = token.split(separator: ".").map(String.init)
        var payload = Array(parts[1])
        let middle = payload.count / 2
        payload[middle] = payload[middle] == "A" ? "B" : "A"
        parts[1] = String(payload)
        await #expect(throws: TokenError.invalid) { try await signer.verify(parts.joined(separator: ".")) }

        // A payload re-encoded with different claims but the old signature.
        var forged = try #require(try Self.decodeSegment(token, 1))
        forged["roles"] = ["admin", "superuser"]
        parts = token.split(separator: ".").map(String.init)
        parts[1] = Self.base64URL(try JSONSerialization.data(withJSONObject: forged))
        await #expect(throws: TokenError.invalid) { try await signer.verify(parts.joined(separator: ".")) }
    }

    @Test func tamperedSignatureIsRejected() async throws {
        let signer = try await hmacSigner()
        let token = try await signer.sign(claims())
        var characters = Array(token)
        let index = characters.count - 3
        characters[index] = characters[index] == "A" ? "B" : "A"
        await #expect(throws: TokenError.invalid) { try await signer.verify(String(characters)) }
        await #expect(throws: TokenError.invalid) { try await signer.verify(String(token.dropLast(10))) }
    }

    @Test func expiredTokenIsRejectedAsExpired() async throws {
        let signer = try await hmacSigner()
        let token = try await signer.sign(claims(lifetime: .seconds(60), now: Date().addingTimeInterval(-3600)))
        await #expect(throws: TokenError.expired) { try await signer.verify(token) }
    }

    @Test func wrongAudienceOrIssuerIsRejected() async throws {
        let signer = try await hmacSigner()
        let otherAudience = try await hmacSigner(audience: "pingvas-admin")
        let otherIssuer = try await hmacSigner(issuer: "someone-else")
        await #expect(throws: TokenError.invalid) { try await signer.verify(try await otherAudience.sign(claims())) }
        await #expect(throws: TokenError.invalid) { try await signer.verify(try await otherIssuer.sign(claims())) }
    }

    @Test func tokenFromAnotherKeyIsRejected() async throws {
        let signer = try await hmacSigner()
        let other = try await hmacSigner(secret: String(repeating: "z", count: 40))
        await #expect(throws: TokenError.invalid) { try await signer.verify(try await other.sign(claims())) }
        // An EdDSA token presented to an HS256 verifier, and the reverse.
        let eddsa = try await TokenSigner(key: .ed25519(privateKeyBase64: Ed25519KeyPair.generate().privateKeyBase64), issuer: "pingvas-user", audience: "pingvas-api")
        await #expect(throws: TokenError.invalid) { try await signer.verify(try await eddsa.sign(claims())) }
        await #expect(throws: TokenError.invalid) { try await eddsa.verify(try await signer.sign(claims())) }
    }

    @Test func algNoneIsRejected() async throws {
        let signer = try await hmacSigner()
        let token = try await signer.sign(claims())
        let payload = token.split(separator: ".")[1]
        let header = Self.base64URL(Data(#"{"alg":"none","typ":"JWT"}"#.utf8))
        await #expect(throws: TokenError.invalid) { try await signer.verify("\(header).\(payload).") }
        // The same with the original signature kept, and with alg "HS256" but no signature.
        let signature = token.split(separator: ".")[2]
        await #expect(throws: TokenError.invalid) { try await signer.verify("\(header).\(payload).\(signature)") }
        let hs256 = Self.base64URL(Data(#"{"alg":"HS256","typ":"JWT"}"#.utf8))
        await #expect(throws: TokenError.invalid) { try await signer.verify("\(hs256).\(payload).") }
    }

    @Test(arguments: [
        "", ".", "..", "...", "a.b", "a.b.c", "a.b.c.d", "garbage", "Bearer x.y.z", "\u{0}\u{1}.\u{2}.\u{3}",
        "eyJhbGciOiJIUzI1NiJ9.e30.", "eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.c2ln", "eyJhbGciOiJIUzI1NiJ9.e30.c2ln",
        "W10.e30.c2ln", "eyJhbGciOjF9.e30.c2ln", "🙂.🙂.🙂",
    ])
    func garbageIsRejectedWithoutCrashing(token: String) async throws {
        let signer = try await hmacSigner()
        await #expect(throws: TokenError.invalid) { try await signer.verify(token) }
    }

    @Test func hugeTokensAreRejected() async throws {
        let signer = try await hmacSigner()
        let huge = String(repeating: "A", count: 100_000) + ".e30.c2ln"
        await #expect(throws: TokenError.invalid) { try await signer.verify(huge) }
    }

    @Test func claimsHaveUniqueIDsAndWholeSecondTimes() {
        let now = Date(timeIntervalSince1970: 1_700_000_000.75)
        let a = claims(lifetime: .seconds(600), now: now)
        let b = claims(lifetime: .seconds(600), now: now)
        #expect(a.jti != b.jti)
        #expect(a.iat == Date(timeIntervalSince1970: 1_700_000_000))
        #expect(a.exp == Date(timeIntervalSince1970: 1_700_000_600))
        #expect(!a.isExpired(at: now))
        #expect(a.isExpired(at: now.addingTimeInterval(600)))
    }

    static func decodeSegment(_ token: String, _ index: Int) throws -> [String: Any]? {
        var text = String(token.split(separator: ".")[index]).replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while text.count % 4 != 0 { text += "=" }
        guard let data = Data(base64Encoded: text) else { return nil }
        return try JSONSerialization.jsonObject(with: data) as? [String: Any]
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
