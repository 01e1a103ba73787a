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
        self.headerLines = lines
        self.body = body
        self.timeout = request.timeout ?? configuration.defaultTimeout
        self.streaming = streaming
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
