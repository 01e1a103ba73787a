package import Core
import Foundation
package import HTTPClient
package import Logging
package import ServiceLifecycle
import Synchronization

/// Sends finished spans to an OpenTelemetry collector (Jaeger, the OTel Collector, Tempo ...) as
/// OTLP over HTTP in protobuf (`POST <endpoint>/v1/traces`), in batches: every second, or at once
/// when 512 are waiting. Installed by `ServiceApplication` when `PINGVAS_OTEL_ENDPOINT` is set.
///
/// Never in the way of the service: at most 10,000 spans wait (the rest are dropped and counted in
/// the log), a failed export is logged and dropped, and on shutdown what is left is sent once.
package final class OTLPExporter: SpanSink, Service {
    let endpoint: String
    let serviceName: String
    let http: CurlHTTPClient
    let logger: Logger
    private let pending = Mutex<(spans: [FinishedSpan], dropped: Int)>(([], 0))
    private let wake = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))

    package static let batchSize = 512
    package static let maxPending = 10_000

    package init(endpoint: String, serviceName: String, logger: Logger) {
        self.endpoint = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        self.serviceName = serviceName
        self.http = CurlHTTPClient(configuration: HTTPClientConfiguration(defaultTimeout: .seconds(5)), logger: logger)
        self.logger = logger
    }

    package func record(_ span: FinishedSpan) {
        let count = pending.withLock { state -> Int in
            guard state.spans.count < Self.maxPending else {
                state.dropped += 1
                return 0
            }
            state.spans.append(span)
            return state.spans.count
        }
        if count >= Self.batchSize { wake.continuation.yield() }
    }

    package func run() async throws {
        let wakes = wake.stream
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in wakes { await self.flush() }  // a full batch
            }
            while !Background.shouldStop {
                await Background.pause(.seconds(1))
                await flush()
            }
            wake.continuation.finish()
        }
        await flush()
        await http.shutdown()
    }

    /// Sends what is waiting, in batches.
    package func flush() async {
        while true {
            let (batch, dropped) = pending.withLock { state -> ([FinishedSpan], Int) in
                let batch = Array(state.spans.prefix(Self.batchSize))
                state.spans.removeFirst(batch.count)
                defer { state.dropped = 0 }
                return (batch, state.dropped)
            }
            if dropped > 0 { logger.warning("spans dropped: the exporter could not keep up", metadata: ["count": "\(dropped)"]) }
            guard !batch.isEmpty else { return }
            let body = OTLPEncoding.exportRequest(serviceName: serviceName, spans: batch)
            do {
                let response = try await http.execute(HTTPClientRequest(
                    method: "POST", url: endpoint + "/v1/traces", headers: ["Content-Type": "application/x-protobuf"], body: body
                ))
                if !(200..<300).contains(response.status) {
                    logger.warning("span export refused", metadata: ["status": "\(response.status)", "spans": "\(batch.count)"])
                }
            } catch {
                logger.warning("span export failed", metadata: ["error": "\(error)", "spans": "\(batch.count)"])
            }
        }
    }
}

/// The protobuf encoding of `ExportTraceServiceRequest` (opentelemetry-proto, trace v1): just the
/// fields this exporter sets.
package enum OTLPEncoding {
    package static func exportRequest(serviceName: String, spans: [FinishedSpan]) -> [UInt8] {
        var resource = Protobuf()
        resource.message(1, keyValue("service.name", .string(serviceName)))
        var scope = Protobuf()
        scope.string(1, "pingvas")
        var scopeSpans = Protobuf()
        scopeSpans.message(1, scope.bytes)
        for span in spans { scopeSpans.message(2, encode(span)) }
        var resourceSpans = Protobuf()
        resourceSpans.message(1, resource.bytes)
        resourceSpans.message(2, scopeSpans.bytes)
        var request = Protobuf()
        request.message(1, resourceSpans.bytes)
        return request.bytes
    }

    static func encode(_ span: FinishedSpan) -> [UInt8] {
        var out = Protobuf()
        out.bytesField(1, hexBytes(span.context.traceID))
        out.bytesField(2, hexBytes(span.context.spanID))
        if let parent = span.parentSpanID { out.bytesField(4, hexBytes(parent)) }
        out.string(5, span.name)
        out.varint(6, UInt64(span.kind.rawValue))
        out.fixed64(7, nanoseconds(span.start))
        out.fixed64(8, nanoseconds(span.end))
        for (key, value) in span.attributes.sorted(by: { $0.key < $1.key }) { out.message(9, keyValue(key, value)) }
        var status = Protobuf()
        if let error = span.error {
            status.string(2, error)
            status.varint(3, 2)  // STATUS_CODE_ERROR
        }
        out.message(15, status.bytes)
        return out.bytes
    }

    static func keyValue(_ key: String, _ value: SpanValue) -> [UInt8] {
        var any = Protobuf()
        switch value {
        case .string(let text): any.string(1, text)
        case .bool(let flag): any.varint(2, flag ? 1 : 0)
        case .int(let number): any.varint(3, UInt64(bitPattern: number))
        case .double(let number): any.fixed64(4, number.bitPattern)
        }
        var pair = Protobuf()
        pair.string(1, key)
        pair.message(2, any.bytes)
        return pair.bytes
    }

    static func nanoseconds(_ date: Date) -> UInt64 {
        UInt64(max(0, date.timeIntervalSince1970 * 1_000_000_000))
    }

    static func hexBytes(_ hex: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var iterator = hex.utf8.makeIterator()
        while let high = iterator.next(), let low = iterator.next() {
            func value(_ c: UInt8) -> UInt8 { c >= 97 ? c - 87 : (c >= 65 ? c - 55 : c - 48) }
            bytes.append(value(high) << 4 | value(low))
        }
        return bytes
    }
}

/// A minimal protobuf writer: varint, fixed64 and length-delimited fields.
struct Protobuf {
    var bytes: [UInt8] = []

    mutating func key(_ field: Int, _ wireType: UInt64) { rawVarint(UInt64(field) << 3 | wireType) }

    mutating func rawVarint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    mutating func varint(_ field: Int, _ value: UInt64) {
        key(field, 0)
        rawVarint(value)
    }

    mutating func fixed64(_ field: Int, _ value: UInt64) {
        key(field, 1)
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    mutating func bytesField(_ field: Int, _ value: [UInt8]) {
        key(field, 2)
        rawVarint(UInt64(value.count))
        bytes += value
    }

    mutating func string(_ field: Int, _ value: String) { bytesField(field, Array(value.utf8)) }
    mutating func message(_ field: Int, _ value: [UInt8]) { bytesField(field, value) }
}
