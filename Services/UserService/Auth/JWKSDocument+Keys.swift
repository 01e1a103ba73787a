import Core
import PingvasCrypto

extension JWKSDocument {
    /// The set of these Ed25519 public keys (base64), the signing key first; invalid ones are left out.
    init(publicKeys: [String]) {
        self.init(keys: publicKeys.compactMap { key in
            guard let kid = Ed25519KeyPair.keyID(publicKeyBase64: key), let x = Ed25519KeyPair.jwkX(publicKeyBase64: key) else { return nil }
            return Key(kid: kid, x: x)
        })
    }
}
