import PingvasCrypto

/// Checks Lemon Squeezy's `X-Signature`: lowercase hex HMAC-SHA256 of the raw body with the signing secret.
struct WebhookSignature: Sendable {
    let secret: [UInt8]

    init(secret: String) {
        self.secret = Array(secret.utf8)
    }

    /// True only when `signature` is exactly the expected 64 hex characters; compared in constant time.
    func isValid(_ signature: String?, body: [UInt8]) -> Bool {
        guard let signature, !secret.isEmpty else { return false }
        let expected = HMACSHA256.hex(key: secret, message: body)
        return constantTimeEquals(Array(expected.utf8), Array(signature.lowercased().utf8))
    }

    /// What a sender with this secret puts in `X-Signature` (tests and replays).
    func sign(_ body: [UInt8]) -> String {
        HMACSHA256.hex(key: secret, message: body)
    }
}
