/// Why a token could not be made or accepted. Descriptions never contain the token.
package enum TokenError: Error, Equatable, Sendable {
    /// Correctly signed but past its `exp`.
    case expired
    /// Anything else wrong with a token: bad signature, wrong algorithm, issuer or audience,
    /// malformed or garbage input.
    case invalid
    /// The configured key is unusable (HMAC secret under 32 bytes, bad base64, wrong length).
    case invalidKey(String)
    /// `sign` on a signer built from a public key only.
    case verifyOnly
}
