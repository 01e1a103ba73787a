package import Foundation
import PingvasCrypto

/// AWS Signature Version 4 for one service and region (`s3`, `sts`), as botocore computes it.
///
/// Pure functions of the request, the credentials and the time, so tests compare them with
/// botocore's `S3SigV4Auth` / `S3SigV4QueryAuth` for the same inputs. Paths are signed as given
/// (S3 does not normalise them); the caller passes them already URI-encoded (`uriEncode`).
package struct AWSSignatureV4: Sendable {
    package static let unsignedPayload = "UNSIGNED-PAYLOAD"
    package static let emptyPayloadHash = SHA256Digest.hex([UInt8]())

    package var service: String
    package var region: String

    package init(service: String, region: String) {
        self.service = service
        self.region = region
    }

    /// The headers to send with a request: `headers` plus `x-amz-date`, `x-amz-content-sha256` (S3),
    /// `x-amz-security-token` (temporary credentials) and `Authorization`. Every header given is signed,
    /// and `host` always (taken from `url` unless given).
    package func signedHeaders(
        method: String, url: URLComponents, headers: [(String, String)], payloadHash: String,
        credentials: AWSCredentials, date: Date
    ) -> [(String, String)] {
        let timestamp = Self.timestamp(date)
        var all = headers.filter { !["authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256"].contains($0.0.lowercased()) }
        all.append(("X-Amz-Date", timestamp))
        if let token = credentials.sessionToken { all.append(("X-Amz-Security-Token", token)) }
        if service == "s3" { all.append(("X-Amz-Content-SHA256", payloadHash)) }
        let canonical = canonicalHeaders(all, url: url)
        let request = [
            method.uppercased(), url.percentEncodedPath.isEmpty ? "/" : url.percentEncodedPath,
            Self.canonicalQuery(url.percentEncodedQuery), canonical.lines + "\n", canonical.names, payloadHash,
        ].joined(separator: "\n")
        let signature = sign(request, timestamp: timestamp, secret: credentials.secretAccessKey)
        all.append((
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope(timestamp)), SignedHeaders=\(canonical.names), Signature=\(signature)"
        ))
        return all
    }

    /// A presigned URL for `method` on `url` valid for `expires` seconds from `date` (only `host` signed,
    /// payload unsigned); the query parameters in botocore's order, `X-Amz-Signature` last.
    package func presignedURL(method: String = "GET", url: URLComponents, expires: Int, credentials: AWSCredentials, date: Date) -> URL? {
        let timestamp = Self.timestamp(date)
        var parameters = [
            ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
            ("X-Amz-Credential", "\(credentials.accessKeyID)/\(scope(timestamp))"),
            ("X-Amz-Date", timestamp),
            ("X-Amz-Expires", String(expires)),
            ("X-Amz-SignedHeaders", "host"),
        ]
        if let token = credentials.sessionToken { parameters.append(("X-Amz-Security-Token", token)) }
        let authQuery = parameters.map { "\(Self.uriEncode($0.0))=\(Self.uriEncode($0.1))" }.joined(separator: "&")
        let query = [url.percentEncodedQuery, authQuery].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: "&")
        let canonical = canonicalHeaders([], url: url)
        let request = [
            method.uppercased(), url.percentEncodedPath.isEmpty ? "/" : url.percentEncodedPath,
            Self.canonicalQuery(query), canonical.lines + "\n", canonical.names, Self.unsignedPayload,
        ].joined(separator: "\n")
        let signature = sign(request, timestamp: timestamp, secret: credentials.secretAccessKey)
        var signed = url
        signed.percentEncodedQuery = query + "&X-Amz-Signature=\(signature)"
        return signed.url
    }

    /// `YYYYMMDD'T'HHMMSS'Z'` in UTC.
    package static func timestamp(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        func two(_ value: Int?) -> String { let v = value ?? 0; return v < 10 ? "0\(v)" : "\(v)" }
        return "\(c.year ?? 1970)\(two(c.month))\(two(c.day))T\(two(c.hour))\(two(c.minute))\(two(c.second))Z"
    }

    /// RFC 3986 percent-encoding of everything but unreserved characters (and `/` when `keepSlash`).
    package static func uriEncode(_ text: String, keepSlash: Bool = false) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: "/") where keepSlash:
                out.append("/")
            default:
                let hex = String(byte, radix: 16, uppercase: true)
                out += byte < 16 ? "%0\(hex)" : "%\(hex)"
            }
        }
        return out
    }

    private func scope(_ timestamp: String) -> String {
        "\(timestamp.prefix(8))/\(region)/\(service)/aws4_request"
    }

    private func sign(_ canonicalRequest: String, timestamp: String, secret: String) -> String {
        let stringToSign = ["AWS4-HMAC-SHA256", timestamp, scope(timestamp), SHA256Digest.hex(Array(canonicalRequest.utf8))]
            .joined(separator: "\n")
        var key = Array("AWS4\(secret)".utf8)
        for part in [String(timestamp.prefix(8)), region, service, "aws4_request"] {
            key = HMACSHA256.authenticationCode(key: key, message: Array(part.utf8))
        }
        return HMACSHA256.hex(key: key, message: Array(stringToSign.utf8))
    }

    /// Lower-cased names sorted, values trimmed with inner whitespace runs collapsed, repeated names joined by `,`.
    private func canonicalHeaders(_ headers: [(String, String)], url: URLComponents) -> (lines: String, names: String) {
        var values: [String: [String]] = [:]
        for (name, value) in headers {
            values[name.lowercased(), default: []].append(value.split(whereSeparator: \.isWhitespace).joined(separator: " "))
        }
        if values["host"] == nil { values["host"] = [Self.hostHeader(url)] }
        let names = values.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        return (names.map { "\($0):\(values[$0]!.joined(separator: ","))" }.joined(separator: "\n"), names.joined(separator: ";"))
    }

    /// `host[:port]`, the port only when it is not the scheme's default (what curl sends).
    package static func hostHeader(_ url: URLComponents) -> String {
        let host = url.host ?? ""
        guard let port = url.port, !(url.scheme == "http" && port == 80), !(url.scheme == "https" && port == 443) else { return host }
        return "\(host):\(port)"
    }

    /// The query's `name=value` pairs (already encoded) sorted by name, then value.
    private static func canonicalQuery(_ query: String?) -> String {
        guard let query, !query.isEmpty else { return "" }
        let pairs = query.split(separator: "&").map { pair -> (String, String) in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (String(parts[0]), parts.count > 1 ? String(parts[1]) : "")
        }
        return pairs.sorted { a, b in
            a.0 == b.0 ? Array(a.1.utf8).lexicographicallyPrecedes(Array(b.1.utf8)) : Array(a.0.utf8).lexicographicallyPrecedes(Array(b.0.utf8))
        }.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }
}
