package import Foundation
import JWTKit

/// Issues and verifies access tokens (JWT) with jwt-kit: HS256 with a shared secret, or EdDSA
/// (Ed25519) where the user service signs with the private key and the gateway verifies with
/// the public one.
///
/// Verification accepts only this signer's algorithm (so `alg: none` and algorithm swaps are
/// rejected before jwt-kit sees the token), then checks the signature, `exp`, `iss` and `aud`.
/// Every failure is a `TokenError`; no input crashes it.
package struct TokenSigner: Sendable {
    /// The key material; base64 may be standard or URL-safe, padded or not.
    package enum Key: Sendable {
        /// HS256; the secret must have at least 32 bytes.
        case hmac(secret: String)
        /// EdDSA with the 32-byte Ed25519 private key (seed); signs and verifies.
        case ed25519(privateKeyBase64: String)
        /// EdDSA with the 32-byte Ed25519 public key; verifies only.
        case ed25519Public(publicKeyBase64: String)
    }

    package let issuer: String
    package let audience: String
    /// The JWT `alg` this signer writes and accepts: `HS256` or `EdDSA`.
    package let algorithm: String
    /// The key id written into (and required in) the header, when the key has one.
    package let kid: String?
    private let canSign: Bool
    private let keys: JWTKeyCollection

    /// Longest token `verify` looks at; ours are a few hundred bytes.
    static let maxTokenLength = 8 * 1024

    /// `kid`: the key's id, written into every token's header and required of tokens to verify
    /// (EdDSA keys published in a JWKS have one; see `Ed25519KeyPair.keyID`).
    package init(key: Key, issuer: String, audience: String, kid: String? = nil) async throws(TokenError) {
        self.issuer = issuer
        self.audience = audience
        self.kid = kid
        let keyID = kid.map { JWKIdentifier(string: $0) }
        keys = JWTKeyCollection()
        switch key {
        case .hmac(let secret):
            guard secret.utf8.count >= 32 else { throw .invalidKey("HMAC secret must be at least 32 bytes") }
            algorithm = "HS256"
            canSign = true
            await keys.add(hmac: HMACKey(from: Array(secret.utf8)), digestAlgorithm: .sha256)
        case .ed25519(let privateKeyBase64):
            guard let raw = Base64URL.decode(privateKeyBase64.trimmingCharacters(in: .whitespacesAndNewlines)), raw.count == 32,
                let privateKey = try? EdDSA.PrivateKey(d: Base64URL.encode(raw), curve: .ed25519)
            else { throw .invalidKey("Ed25519 private key must be 32 bytes of base64") }
            algorithm = "EdDSA"
            canSign = true
            await keys.add(eddsa: privateKey, kid: keyID)
        case .ed25519Public(let publicKeyBase64):
            guard let raw = Base64URL.decode(publicKeyBase64.trimmingCharacters(in: .whitespacesAndNewlines)), raw.count == 32,
                let publicKey = try? EdDSA.PublicKey(x: Base64URL.encode(raw), curve: .ed25519)
            else { throw .invalidKey("Ed25519 public key must be 32 bytes of base64") }
            algorithm = "EdDSA"
            canSign = false
            await keys.add(eddsa: publicKey, kid: keyID)
        }
    }

    /// Signs `claims`, stamping this signer's issuer and audience over whatever they held.
    package func sign(_ claims: AccessClaims) async throws(TokenError) -> String {
        guard canSign else { throw .verifyOnly }
        var claims = claims
        claims.iss = issuer
        claims.aud = audience
        do {
            return try await keys.sign(SignedAccessClaims(claims), kid: kid.map { JWKIdentifier(string: $0) })
        } catch {
            throw .invalidKey("signing failed")
        }
    }

    /// The claims of a valid token; `.expired` for a genuine but expired one, `.invalid` for
    /// everything else.
    package func verify(_ token: String) async throws(TokenError) -> AccessClaims {
        guard token.utf8.count <= Self.maxTokenLength, headerAlgorithm(of: token) == algorithm else { throw .invalid }
        let claims: AccessClaims
        do {
            claims = try await keys.verify(token, as: SignedAccessClaims.self).claims
        } catch let error as TokenError {
            throw error
        } catch {
            throw .invalid
        }
        guard claims.iss == issuer, claims.aud == audience else { throw .invalid }
        return claims
    }

    /// Fresh claims for `userID`, valid from `now` for `lifetime`, with a random `jti`.
    /// Times are whole seconds, as they will be in the token. `sign` fills in `iss` and `aud`.
    package static func makeAccessClaims(
        userID: String,
        roles: [String],
        plan: String,
        lifetime: Duration = .seconds(15 * 60),
        now: Date = .now
    ) -> AccessClaims {
        let issuedAt = Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down))
        let seconds = Double(lifetime.components.seconds) + Double(lifetime.components.attoseconds) / 1e18
        return AccessClaims(
            sub: userID,
            roles: roles,
            plan: plan,
            exp: Date(timeIntervalSince1970: (issuedAt.timeIntervalSince1970 + seconds).rounded(.down)),
            iat: issuedAt,
            iss: "",
            aud: "",
            jti: SecureRandom.token(byteCount: 16)
        )
    }

    /// The `alg` of a compact JWT's header, or nil unless the token has three non-empty
    /// segments and a JSON header with a string `alg`.
    private func headerAlgorithm(of token: String) -> String? {
        let segments = token.split(separator: ".", omittingEmptySubsequences: false)
        guard segments.count == 3, segments.allSatisfy({ !$0.isEmpty }),
            segments.allSatisfy({ $0.utf8.allSatisfy(Self.isBase64URLByte) }),
            let header = Base64URL.decode(segments[0]),
            let object = try? JSONSerialization.jsonObject(with: Data(header)) as? [String: Any]
        else { return nil }
        return object["alg"] as? String
    }

    private static func isBase64URLByte(_ byte: UInt8) -> Bool {
        (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || byte == 0x2D || byte == 0x5F
    }
}
