import Core

/// A request checked and reduced to what libcurl needs, built on the caller's task (where the
/// `RequestContext` task-locals are bound) before it crosses to the loop thread.
struct PreparedRequest: Sendable {
    var method: String
    var url: String
    /// `Name: value` lines for `CURLOPT_HTTPHEADER`.
    var headerLines: [String]
    var body: [UInt8]?
    var timeout: Duration
    var streaming: Bool
    /// `+host:port:address[,address]` for `CURLOPT_RESOLVE` when the request pins its addresses.
    var resolveLine: String?

    init(_ request: HTTPClientRequest, configuration: HTTPClientConfiguration, streaming: Bool) throws(HTTPClientError) {
        let method = request.method.uppercased()
        guard !method.isEmpty, method.utf8.allSatisfy(Self.isTokenByte) else {
            throw .invalidRequest("method is not an HTTP token")
        }
        guard request.url.hasPrefix("http://") || request.url.hasPrefix("https://"),
            !request.url.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F })
        else { throw .invalidURL }

        var headers = request.headers
        if !headers.contains("X-Request-Id"), let requestID = RequestContext.requestID {
            headers.add(name: "X-Request-Id", value: requestID)
        }
        if !headers.contains("traceparent"), let traceparent = RequestContext.traceparent {
            headers.add(name: "traceparent", value: traceparent)
        }

        var body = request.body
        if body == nil, ["POST", "PUT", "PATCH"].contains(method) {
            body = []  // so libcurl sends Content-Length: 0
        }
        var lines: [String] = []
        lines.reserveCapacity(headers.count)
        for (name, value) in headers {
            guard !name.isEmpty, name.utf8.allSatisfy(Self.isTokenByte) else {
                throw .invalidRequest("header name is not an HTTP token")
            }
            // The value itself never goes into the error: it may be a credential.
            guard !value.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0 }) else {
                throw .invalidRequest("value of header \(name) contains a line break")
            }
            // libcurl sends "Name;" as an empty header ("Name:" would remove it).
            lines.append(value.isEmpty ? "\(name);" : "\(name): \(value)")
        }
        if body != nil {
            // Remove what libcurl would add on its own: a form Content-Type and an Expect: 100-continue round trip.
            if !headers.contains("Content-Type") { lines.append("Content-Type:") }
            if !headers.contains("Expect") { lines.append("Expect:") }
        }

        self.method = method
        self.url = request.url
        self.resolveLine = try Self.resolveLine(url: request.url, addresses: request.pinnedAddresses)
        self.headerLines = lines
        self.body = body
        self.timeout = request.timeout ?? configuration.defaultTimeout
        self.streaming = streaming
    }

    /// The `CURLOPT_RESOLVE` entry that sends `url`'s host to `addresses` only; nil when there is
    /// nothing to pin (no addresses, or the host is an address itself).
    static func resolveLine(url: String, addresses: [String]) throws(HTTPClientError) -> String? {
        guard !addresses.isEmpty else { return nil }
        let https = url.hasPrefix("https://")
        var authority = url.dropFirst(https ? 8 : 7).prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        if authority.hasPrefix("[") { return nil }  // an IPv6 literal: nothing is resolved
        var host = authority, port = https ? 443 : 80
        if let colon = authority.lastIndex(of: ":") {
            guard let given = Int(authority[authority.index(after: colon)...]), (1...65535).contains(given) else { throw .invalidURL }
            host = authority[..<colon]
            port = given
        }
        guard !host.isEmpty else { throw .invalidURL }
        if host.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || $0 == UInt8(ascii: ".") }) { return nil }  // an IPv4 literal
        var pinned: [String] = []
        for address in addresses {
            // Numeric addresses only: nothing that could end the entry or add another.
            guard !address.isEmpty, address.utf8.allSatisfy({ $0 < 0x80 && (Character(UnicodeScalar($0)).isHexDigit || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: ":")) }) else {
                throw .invalidRequest("a pinned address is not a numeric address")
            }
            pinned.append(address.contains(":") ? "[\(address)]" : address)
        }
        // "+": the entry leaves libcurl's DNS cache when an answer would (60 s) instead of never.
        return "+\(host):\(port):\(pinned.joined(separator: ","))"
    }

    /// RFC 9110 `tchar`.
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default:
            "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }
}
