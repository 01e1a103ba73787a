import Core
import HTTPTypes
package import Hummingbird
import Logging
import PingvasCrypto

/// Gives every request an `X-Request-Id` and a W3C trace context.
///
/// A well-formed incoming `X-Request-Id` (1-128 of `[A-Za-z0-9._:-]`) is kept, anything else is
/// replaced; the id goes out on the response and into the logger's metadata as `request_id`. An
/// incoming valid `traceparent` keeps its trace id and gets a new span id for this hop; without
/// one a new trace starts. Both are bound to `Core.RequestContext` for outgoing calls.
package struct RequestIDMiddleware<Context: Hummingbird.RequestContext>: RouterMiddleware {
    package init() {}

    package func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let requestID = request.headers[.requestID].flatMap(Self.acceptable) ?? Self.newRequestID()
        let incoming = TraceParent(header: request.headers[.traceparent])
        let trace = incoming.child()
        var context = context
        context.logger[metadataKey: "request_id"] = .string(requestID)
        context.logger[metadataKey: "trace_id"] = .string(trace.traceID)
        // The server span of this hop: its id is the one outgoing calls and messages carry.
        let span = Tracing.isRecording && !Self.untraced.contains(request.uri.path)
            ? SpanContext(traceparent: trace.header).map { spanContext in
                Tracing.startSpan(
                    "\(request.method.rawValue) \(context.endpointPath ?? request.uri.path)", kind: .server, context: spanContext,
                    parentSpanID: incoming?.spanID,
                    attributes: ["http.request.method": .string(request.method.rawValue), "url.path": .string(request.uri.path)]
                )
            } : nil
        var response: Response
        do {
            response = try await Core.RequestContext.$requestID.withValue(requestID) {
                try await Core.RequestContext.$traceparent.withValue(trace.header) {
                    try await next(request, context)
                }
            }
        } catch {
            span?.fail(error)
            span?.end()
            throw error
        }
        if let span {
            span.set("http.response.status_code", .int(Int64(response.status.code)))
            if response.status.code >= 500 { span.fail(message: "HTTP \(response.status.code)") }
            span.end()
        }
        response.headers[.requestID] = requestID
        return response
    }

    static func acceptable(_ value: String) -> String? {
        guard (1...128).contains(value.utf8.count) else { return nil }
        let allowed = value.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2E || byte == 0x5F || byte == 0x3A || byte == 0x2D
        }
        return allowed ? value : nil
    }

    static func newRequestID() -> String { hexString(SecureRandom.bytes(16)) }

    /// Probes and scrapes make no spans.
    static var untraced: Set<String> { ["/healthz", "/readyz", "/metrics"] }
}

/// A W3C `traceparent`: `00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`.
package struct TraceParent: Sendable, Equatable {
    package var traceID: String
    package var spanID: String
    package var flags: String

    /// Parses a header; nil when it is absent or malformed (an all-zero id is malformed too).
    package init?(header: String?) {
        guard let header else { return nil }
        let parts = header.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 4, parts[0].count == 2, parts[0] != "ff", parts[1].count == 32, parts[2].count == 16, parts[3].count == 2,
            parts.allSatisfy({ $0.allSatisfy(\.isHexDigit) && $0 == $0.lowercased() }),
            parts[1] != String(repeating: "0", count: 32), parts[2] != String(repeating: "0", count: 16)
        else { return nil }
        traceID = parts[1]
        spanID = parts[2]
        flags = parts[3]
    }

    package init(traceID: String, spanID: String, flags: String = "01") {
        self.traceID = traceID
        self.spanID = spanID
        self.flags = flags
    }

    /// A new trace with fresh random ids, sampled as `Tracing.sampleRatio` says.
    package static func root() -> TraceParent {
        TraceParent(
            traceID: hexString(SecureRandom.bytes(16)), spanID: hexString(SecureRandom.bytes(8)), flags: Tracing.sampleNewTrace() ? "01" : "00"
        )
    }

    package var header: String { "00-\(traceID)-\(spanID)-\(flags)" }

    /// The same trace with a new span id for the next hop.
    package func child() -> TraceParent { TraceParent(traceID: traceID, spanID: hexString(SecureRandom.bytes(8)), flags: flags) }
}

extension Optional where Wrapped == TraceParent {
    /// The child of the incoming trace, or a new root trace.
    func child() -> TraceParent { self?.child() ?? .root() }
}

func hexString(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out = [UInt8]()
    out.reserveCapacity(bytes.count * 2)
    for byte in bytes {
        out.append(digits[Int(byte >> 4)])
        out.append(digits[Int(byte & 0x0F)])
    }
    return String(decoding: out, as: UTF8.self)
}

extension HTTPField.Name {
    package static let requestID = HTTPField.Name("X-Request-Id")!
    package static let traceparent = HTTPField.Name("traceparent")!
    package static let userID = HTTPField.Name("X-User-Id")!
    package static let userRoles = HTTPField.Name("X-User-Roles")!
    package static let userPlan = HTTPField.Name("X-User-Plan")!
    package static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
}
