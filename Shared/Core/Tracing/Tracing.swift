package import Foundation
import Synchronization

/// Spans of the process, recorded when a sink is installed (ServiceKit installs the OTLP exporter
/// when `PINGVAS_OTEL_ENDPOINT` is set) and the trace is sampled.
///
/// The trace context is `RequestContext.traceparent`, which the server middleware, the HTTP client
/// and the queue consumers already carry: a span is a child of the current `traceparent`, and the
/// body runs with the span's own `traceparent`, so calls made inside it are its children, across
/// processes too (HTTP headers and message envelopes carry it). Nothing is recorded outside a
/// trace: background loops without a context record nothing.
package enum Tracing {
    private static let installed = Mutex<(any SpanSink)?>(nil)
    private static let active = Atomic<Bool>(false)
    private static let ratio = Mutex<Double>(1)

    /// The share of new traces (requests arriving without a `traceparent`) that are sampled
    /// (`PINGVAS_OTEL_SAMPLE_RATIO`); a trace that arrives keeps its caller's decision.
    package static var sampleRatio: Double {
        get { ratio.withLock { $0 } }
        set { ratio.withLock { $0 = min(1, max(0, newValue)) } }
    }

    /// Whether a new trace is sampled.
    package static func sampleNewTrace() -> Bool {
        let ratio = sampleRatio
        return ratio >= 1 || Double.random(in: 0..<1) < ratio
    }

    /// Installs the sink every finished span goes to (nil: stop recording).
    package static func install(_ sink: (any SpanSink)?) {
        installed.withLock { $0 = sink }
        active.store(sink != nil, ordering: .releasing)
    }

    /// Whether spans are being recorded at all (cheap; checked before any work).
    package static var isRecording: Bool { active.load(ordering: .acquiring) }

    /// Runs `body` in a child span of the current trace (a no-op wrapper when nothing records or no
    /// trace is current); the span ends when `body` returns or throws (status error).
    package static func withSpan<T>(
        _ name: String, kind: SpanKind = .internal, attributes: [String: SpanValue] = [:],
        _ body: (TraceSpan) async throws -> T
    ) async rethrows -> T {
        guard isRecording, let parent = RequestContext.traceparent.flatMap(SpanContext.init(traceparent:)), parent.sampled else {
            return try await body(TraceSpan.disabled)
        }
        let span = TraceSpan(name: name, kind: kind, context: parent.child(), parentSpanID: parent.spanID, attributes: attributes)
        do {
            let result = try await RequestContext.$traceparent.withValue(span.context.traceparent) { try await body(span) }
            span.end()
            return result
        } catch {
            span.fail(error)
            span.end()
            throw error
        }
    }

    /// A started child span of the current trace, or nil when nothing records or no sampled trace is
    /// current. The caller ends it, and makes `span.context.traceparent` current (or sends it) for
    /// whatever should be its children.
    package static func startChild(_ name: String, kind: SpanKind = .internal, attributes: [String: SpanValue] = [:]) -> TraceSpan? {
        guard isRecording, let parent = RequestContext.traceparent.flatMap(SpanContext.init(traceparent:)), parent.sampled else {
            return nil
        }
        return TraceSpan(name: name, kind: kind, context: parent.child(), parentSpanID: parent.spanID, attributes: attributes)
    }

    /// Starts a span by hand (for a server span whose context the middleware already made, or one
    /// that began earlier, e.g. the time a job waited in the queue); call `end()` on it.
    package static func startSpan(
        _ name: String, kind: SpanKind, context: SpanContext, parentSpanID: String?, start: Date = Date(),
        attributes: [String: SpanValue] = [:]
    ) -> TraceSpan {
        guard isRecording, context.sampled else { return TraceSpan.disabled }
        return TraceSpan(name: name, kind: kind, context: context, parentSpanID: parentSpanID, start: start, attributes: attributes)
    }

    static func finished(_ span: FinishedSpan) {
        installed.withLock { $0 }?.record(span)
    }
}

/// Where finished spans go (the OTLP exporter; tests may install their own).
package protocol SpanSink: Sendable {
    func record(_ span: FinishedSpan)
}

/// OpenTelemetry's span kinds, with their OTLP numbers.
package enum SpanKind: Int, Sendable {
    case `internal` = 1, server = 2, client = 3, producer = 4, consumer = 5
}

/// An attribute value.
package enum SpanValue: Sendable, Equatable {
    case string(String)
    case int(Int64)
    case double(Double)
    case bool(Bool)
}

extension SpanValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    package init(stringLiteral value: String) { self = .string(value) }
    package init(integerLiteral value: Int64) { self = .int(value) }
}

/// Trace and span ids (lowercase hex) and whether the trace is sampled.
package struct SpanContext: Sendable, Equatable {
    package var traceID: String
    package var spanID: String
    package var sampled: Bool

    package init(traceID: String, spanID: String, sampled: Bool) {
        self.traceID = traceID
        self.spanID = spanID
        self.sampled = sampled
    }

    /// From a W3C `traceparent` (`00-<32 hex>-<16 hex>-<flags>`); nil when malformed.
    package init?(traceparent: String) {
        let parts = traceparent.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[1].count == 32, parts[2].count == 16, parts[3].count == 2,
              let flags = UInt8(parts[3], radix: 16)
        else { return nil }
        traceID = String(parts[1])
        spanID = String(parts[2])
        sampled = flags & 1 == 1
    }

    package var traceparent: String { "00-\(traceID)-\(spanID)-\(sampled ? "01" : "00")" }

    /// The same trace, a new span id.
    package func child() -> SpanContext {
        SpanContext(traceID: traceID, spanID: Self.randomHex(bytes: 8), sampled: sampled)
    }

    static func randomHex(bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        var text = ""
        while text.count < bytes * 2 {
            let value = generator.next() as UInt64
            guard value != 0 else { continue }
            text += String(value, radix: 16).leftPadded(to: 16)
        }
        return String(text.prefix(bytes * 2))
    }
}

extension String {
    fileprivate func leftPadded(to length: Int) -> String {
        count >= length ? self : String(repeating: "0", count: length - count) + self
    }
}

/// A span being recorded. Attributes may be added until it ends; `end` is idempotent.
package final class TraceSpan: Sendable {
    package let name: String
    package let kind: SpanKind
    package let context: SpanContext
    package let parentSpanID: String?
    let start: Date
    private let state: Mutex<(attributes: [String: SpanValue], error: String?, ended: Bool)>
    private let recording: Bool

    static let disabled = TraceSpan()

    private init() {
        name = ""
        kind = .internal
        context = SpanContext(traceID: String(repeating: "0", count: 32), spanID: String(repeating: "0", count: 16), sampled: false)
        parentSpanID = nil
        start = Date(timeIntervalSince1970: 0)
        state = Mutex(([:], nil, true))
        recording = false
    }

    init(name: String, kind: SpanKind, context: SpanContext, parentSpanID: String?, start: Date = Date(), attributes: [String: SpanValue]) {
        self.name = name
        self.kind = kind
        self.context = context
        self.parentSpanID = parentSpanID
        self.start = start
        state = Mutex((attributes, nil, false))
        recording = true
    }

    package var isRecording: Bool { recording }

    package func set(_ key: String, _ value: SpanValue) {
        guard recording else { return }
        state.withLock { $0.attributes[key] = value }
    }

    /// Marks the span failed (status error) with `error`'s description.
    package func fail(_ error: any Error) {
        fail(message: String(describing: error))
    }

    package func fail(message: String) {
        guard recording else { return }
        state.withLock { $0.error = String(message.prefix(500)) }
    }

    package func end(at end: Date = Date()) {
        guard recording else { return }
        let snapshot = state.withLock { state -> (attributes: [String: SpanValue], error: String?)? in
            guard !state.ended else { return nil }
            state.ended = true
            return (state.attributes, state.error)
        }
        guard let snapshot else { return }
        Tracing.finished(FinishedSpan(
            name: name, kind: kind, context: context, parentSpanID: parentSpanID, start: start, end: max(end, start),
            attributes: snapshot.attributes, error: snapshot.error
        ))
    }
}

/// A span that ended, as the exporter sends it.
package struct FinishedSpan: Sendable, Equatable {
    package var name: String
    package var kind: SpanKind
    package var context: SpanContext
    package var parentSpanID: String?
    package var start: Date
    package var end: Date
    package var attributes: [String: SpanValue]
    /// Status error with this message; nil: unset (OK).
    package var error: String?
}
