/// The one reading of a request path the gateway routes and forwards.
///
/// A path is decoded once and refused when any decoding step could make it mean something else
/// to a later reader (libcurl, an upstream router, a proxy): percent-encoded dots, slashes,
/// backslashes, percent signs, NUL and other control characters, encoded unreserved characters
/// (`%69nternal`), `;` path parameters, raw backslashes, empty segments (`//`), `.` and `..`
/// segments, malformed escapes and invalid or overlong UTF-8. What is left is re-encoded in one
/// way (uppercase hex, only what must be encoded), so the upstream receives exactly the path that
/// was matched against the route table.
enum CanonicalPath {
    struct Rejection: Error, Equatable {
        let reason: String
    }

    /// The canonical form of `raw` (the request target's path, without the query), or why not.
    static func canonicalize(_ raw: String) -> Result<String, Rejection> {
        let bytes = Array(raw.utf8)
        guard bytes.first == UInt8(ascii: "/") else { return .failure(Rejection(reason: "The path must start with '/'.")) }
        var segments: [[UInt8]] = [[]]
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "/"):
                segments.append([])
                index += 1
            case UInt8(ascii: "%"):
                guard index + 2 < bytes.count, let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2]) else {
                    return .failure(Rejection(reason: "The path has a malformed percent escape."))
                }
                let decoded = high << 4 | low
                if let reason = refusedEncoded(decoded) { return .failure(Rejection(reason: reason)) }
                segments[segments.count - 1].append(decoded)
                index += 3
            case UInt8(ascii: "\\"):
                return .failure(Rejection(reason: "The path contains a backslash."))
            case UInt8(ascii: ";"):
                return .failure(Rejection(reason: "Path parameters (';') are not accepted."))
            default:
                guard isAllowedRaw(byte) else { return .failure(Rejection(reason: "The path contains a character that must be percent-encoded.")) }
                segments[segments.count - 1].append(byte)
                index += 1
            }
        }
        // segments[0] is the empty piece before the leading '/'; a trailing '/' leaves one empty last segment.
        let body = Array(segments.dropFirst())
        for (position, segment) in body.enumerated() {
            if segment.isEmpty {
                if position == body.count - 1 { continue }  // "/" alone, or one trailing '/'
                return .failure(Rejection(reason: "The path has an empty segment ('//')."))
            }
            if segment == [UInt8(ascii: ".")] || segment == [UInt8(ascii: "."), UInt8(ascii: ".")] {
                return .failure(Rejection(reason: "The path has a dot segment."))
            }
            guard let text = String(validating: segment, as: UTF8.self) else {
                return .failure(Rejection(reason: "The path is not valid UTF-8."))
            }
            if text.unicodeScalars.contains(where: { confusables.contains($0.value) }) {
                return .failure(Rejection(reason: "The path contains a look-alike of '.', '/' or '\\'."))
            }
        }
        return .success("/" + body.map(encode).joined(separator: "/"))
    }

    /// Why an escape decoding to `byte` is refused, or nil when it may stay encoded.
    private static func refusedEncoded(_ byte: UInt8) -> String? {
        switch byte {
        case UInt8(ascii: "."): return "The path has an encoded dot."
        case UInt8(ascii: "/"), UInt8(ascii: "\\"): return "The path has an encoded slash or backslash."
        case UInt8(ascii: "%"): return "The path is percent-encoded twice."
        case UInt8(ascii: ";"): return "Path parameters (';') are not accepted."
        case 0x00..<0x20, 0x7F: return "The path has an encoded control character."
        default:
            return isUnreserved(byte) ? "The path has an encoded letter, digit or '-', '_', '~' that must be written plainly." : nil
        }
    }

    /// Characters a request path may carry unencoded (RFC 3986 pchar without ';' and '%').
    private static func isAllowedRaw(_ byte: UInt8) -> Bool {
        isUnreserved(byte) || "!$&'()*+,=:@".utf8.contains(byte)
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"): true
        default: false
        }
    }

    /// Fullwidth and other look-alikes of '.', '/' and '\' that Unicode normalisation (NFKC) turns into them.
    private static let confusables: Set<UInt32> = [0xFF0E, 0xFF0F, 0xFF3C, 0x2024, 0x2215, 0x2216, 0xFE52, 0xFE68, 0x2044, 0x29F8, 0x29F9]

    private static func encode(_ segment: [UInt8]) -> String {
        var result = ""
        for byte in segment {
            if isAllowedRaw(byte) {
                result.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                let hex = Array("0123456789ABCDEF".utf8)
                result += "%" + String(decoding: [hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]], as: UTF8.self)
            }
        }
        return result
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
