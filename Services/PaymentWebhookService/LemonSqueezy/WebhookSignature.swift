import PingvasCrypto

/// Checks Lemon Squeezy's `X-Signature`: lowercase hex HMAC-SHA256 of the raw body with the signing secret.
struct WebhookSignature: Sendable {
    let secret: [UInt8]

    init(secret: String) {
        self.secret = Array(secret.utf8)
    }

    /// True only when `signature` is exactly 64 hex characters (either case) naming the expected
    /// code; the codes are compared as bytes, in constant time.
    func isValid(_ signature: String?, body: [UInt8]) -> Bool {
        guard let signature, !secret.isEmpty, let given = Self.bytes(ofHex: signature) else { return false }
        return constantTimeEquals(HMACSHA256.authenticationCode(key: secret, message: body), given)
    }

    /// The 32 bytes that 64 hex characters spell, or nil for anything else.
    static func bytes(ofHex text: String) -> [UInt8]? {
        guard text.utf8.count == 64 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        var high: UInt8?
        for character in text.utf8 {
            let nibble: UInt8
            switch character {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = character - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = character - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): nibble = character - UInt8(ascii: "A") + 10
            default: return nil
            }
            if let first = high {
                bytes.append(first << 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
        }
        return bytes
    }

    /// What a sender with this secret puts in `X-Signature` (tests and replays).
    func sign(_ body: [UInt8]) -> String {
        HMACSHA256.hex(key: secret, message: body)
    }
}
