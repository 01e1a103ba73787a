import Foundation
import JWTKit

/// An Ed25519 key pair as base64 (standard, 32 raw bytes each), the form `TokenSigner.Key`
/// and the `PINGVAS_JWT_*` configuration take.
package struct Ed25519KeyPair: Sendable, Equatable {
    /// The private key (seed); a secret.
    package let privateKeyBase64: String
    package let publicKeyBase64: String

    /// A new random key pair.
    package static func generate() throws(TokenError) -> Ed25519KeyPair {
        guard let key = try? EdDSA.PrivateKey(curve: .ed25519) else { throw .invalidKey("Ed25519 key generation failed") }
        return Ed25519KeyPair(
            privateKeyBase64: Base64URL.encodeStandard(Array(key.rawRepresentation)),
            publicKeyBase64: Base64URL.encodeStandard(Array(key.publicKey.rawRepresentation))
        )
    }

    /// The key id of a public key: the first 16 hex characters of the SHA-256 of its 32 bytes.
    package static func keyID(publicKeyBase64: String) -> String? {
        guard let raw = Base64URL.decode(publicKeyBase64.trimmingCharacters(in: .whitespacesAndNewlines)), raw.count == 32 else { return nil }
        return String(SHA256Digest.hex(raw).prefix(16))
    }

    /// The public key as JWK `x` (base64url), or nil when it is not 32 bytes of base64.
    package static func jwkX(publicKeyBase64: String) -> String? {
        guard let raw = Base64URL.decode(publicKeyBase64.trimmingCharacters(in: .whitespacesAndNewlines)), raw.count == 32 else { return nil }
        return Base64URL.encode(raw)
    }

    /// The public key in standard base64 from a JWK `x`, or nil when it is not 32 bytes.
    package static func publicKey(jwkX: String) -> String? {
        guard let raw = Base64URL.decode(jwkX), raw.count == 32 else { return nil }
        return Base64URL.encodeStandard(raw)
    }

    /// The pair belonging to an existing private key (to derive the gateway's public key).
    package init(privateKeyBase64: String) throws(TokenError) {
        guard let raw = Base64URL.decode(privateKeyBase64), raw.count == 32,
            let key = try? EdDSA.PrivateKey(d: Base64URL.encode(raw), curve: .ed25519)
        else { throw .invalidKey("Ed25519 private key must be 32 bytes of base64") }
        self.init(
            privateKeyBase64: Base64URL.encodeStandard(raw),
            publicKeyBase64: Base64URL.encodeStandard(Array(key.publicKey.rawRepresentation))
        )
    }

    private init(privateKeyBase64: String, publicKeyBase64: String) {
        self.privateKeyBase64 = privateKeyBase64
        self.publicKeyBase64 = publicKeyBase64
    }
}
