/// A JSON Web Key Set of Ed25519 public keys (RFC 8037 `OKP`): what user's `GET /internal/jwks`
/// answers and the gateway verifies access tokens with.
package struct JWKSDocument: Codable, Sendable, Equatable {
    package struct Key: Codable, Sendable, Equatable {
        package var kty = "OKP"
        package var crv = "Ed25519"
        package var alg = "EdDSA"
        package var use = "sig"
        package var kid: String
        /// The public key, base64url without padding.
        package var x: String

        package init(kid: String, x: String) {
            self.kid = kid
            self.x = x
        }
    }

    package var keys: [Key]

    package init(keys: [Key]) {
        self.keys = keys
    }
}
