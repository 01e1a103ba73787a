import Foundation

/// Base64 helpers: URL-safe for tokens, standard without padding for password hashes.
enum Base64URL {
    /// base64url (RFC 4648 §5) without padding.
    static func encode(_ bytes: [UInt8]) -> String {
        var text = Data(bytes).base64EncodedString()
        text = text.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        while text.hasSuffix("=") { text.removeLast() }
        return text
    }

    /// Decodes standard or URL-safe base64, with or without padding; nil for anything else.
    static func decode(_ text: some StringProtocol) -> [UInt8]? {
        var normalized = String(text).replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        guard !normalized.contains("=") || normalized.count % 4 == 0 else { return nil }
        while normalized.count % 4 != 0 { normalized.append("=") }
        return Data(base64Encoded: normalized).map(Array.init)
    }

    /// Standard base64 without padding (the PHC string format).
    static func encodeStandardUnpadded(_ bytes: [UInt8]) -> String {
        var text = Data(bytes).base64EncodedString()
        while text.hasSuffix("=") { text.removeLast() }
        return text
    }
}

extension Base64URL {
    /// Standard base64 with padding (keys in configuration).
    static func encodeStandard(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }
}
