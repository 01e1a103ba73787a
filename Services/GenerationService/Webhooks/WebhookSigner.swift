import Foundation
import PingvasCrypto

/// Standard Webhooks signing (https://www.standardwebhooks.com): `webhook-id`, `webhook-timestamp`
/// and `webhook-signature: v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`, keyed with the
/// base64 part of a `whsec_` secret.
enum WebhookSigner {
    static let secretPrefix = "whsec_"

    /// A new secret: `whsec_` and 24 random bytes in base64.
    static func makeSecret() -> String {
        secretPrefix + Data(SecureRandom.bytes(24)).base64EncodedString()
    }

    /// The three headers for `body` sent as message `id` at `timestamp` (seconds since 1970).
    static func headers(secret: String, id: String, timestamp: Int, body: [UInt8]) -> [(String, String)] {
        let key = Array(Data(base64Encoded: String(secret.dropFirst(secretPrefix.count))) ?? Data())
        let signed = Array("\(id).\(timestamp).".utf8) + body
        let signature = Data(HMACSHA256.authenticationCode(key: key, message: signed)).base64EncodedString()
        return [("webhook-id", id), ("webhook-timestamp", String(timestamp)), ("webhook-signature", "v1,\(signature)")]
    }
}
