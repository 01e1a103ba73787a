package import Foundation

/// The one place that turns messages and internal API bodies into JSON bytes and back.
///
/// All wire JSON shares one configuration: snake_case keys (declared by each type's
/// `CodingKeys`), dates as ISO 8601 in UTC with fractional seconds, sorted keys. Every failure
/// surfaces as a `WireCodecError`; no input crashes the decoder.
package enum WireCodec {
    /// The major version this build writes and reads. Minor bumps (`"1.3"`) only add fields.
    package static let currentVersion = 1

    /// Wraps `payload` in an envelope and encodes it.
    ///
    /// The trace context defaults to the one bound for the current request.
    package static func encode<P: WireMessage>(
        _ payload: P,
        id: EventID = .init(),
        at: Date = .now,
        traceparent: String? = RequestContext.traceparent
    ) throws(WireCodecError) -> [UInt8] {
        try encode(Envelope(id: id, at: at, traceparent: traceparent, data: payload))
    }

    /// Encodes a complete envelope, e.g. to re-publish a message with its original id.
    package static func encode<P: WireMessage>(_ envelope: Envelope<P>) throws(WireCodecError) -> [UInt8] {
        try encodeBody(envelope)
    }

    /// Reads the envelope fields without decoding `data`, so a consumer can route by `type`.
    ///
    /// The version is reported, not checked; `decode` rejects majors it does not know.
    package static func peek(_ bytes: [UInt8]) throws(WireCodecError) -> EnvelopeHeader {
        try decodeBody(EnvelopeHeader.self, from: bytes)
    }

    /// Decodes an envelope of the given message type.
    ///
    /// Throws `.unsupportedVersion` for an unknown major, `.typeMismatch` when `type` is another
    /// message, `.missingField` / `.malformed` for anything else wrong, in that order.
    package static func decode<P: WireMessage>(_ type: P.Type, from bytes: [UInt8]) throws(WireCodecError) -> Envelope<P> {
        try decodeBody(Envelope<P>.self, from: bytes)
    }

    /// Encodes an internal HTTP body (not an envelope) with the wire configuration.
    package static func encodeBody<T: Encodable>(_ value: T) throws(WireCodecError) -> [UInt8] {
        do {
            return Array(try makeEncoder().encode(value))
        } catch {
            throw wireError(error)
        }
    }

    /// Decodes an internal HTTP body (not an envelope) with the wire configuration.
    package static func decodeBody<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws(WireCodecError) -> T {
        guard !bytes.isEmpty else { throw .malformed("empty input") }
        do {
            return try makeDecoder().decode(T.self, from: Data(bytes))
        } catch {
            throw wireError(error)
        }
    }

    /// A JSON encoder configured like the wire, for HTTP layers that need one.
    package static func makeEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(formatDate(date))
        }
        return encoder
    }

    /// A JSON decoder configured like the wire, for HTTP layers that need one.
    package static func makeDecoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            guard let date = parseDate(try container.decode(String.self)) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an ISO 8601 date")
            }
            return date
        }
        return decoder
    }

    /// `2024-05-01T12:00:00.250Z`: UTC, millisecond precision.
    package static func formatDate(_ date: Date) -> String {
        date.formatted(fractionalStyle)
    }

    /// Parses ISO 8601 with or without fractional seconds, in any offset.
    package static func parseDate(_ string: String) -> Date? {
        guard string.utf8.count <= 64 else { return nil }
        return (try? fractionalStyle.parse(string)) ?? (try? wholeSecondStyle.parse(string))
    }

    private static let fractionalStyle = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt)
    private static let wholeSecondStyle = Date.ISO8601FormatStyle(timeZone: .gmt)

    /// Maps Foundation's coding errors to `WireCodecError`, naming paths but never values.
    static func wireError(_ error: any Error) -> WireCodecError {
        switch error {
        case let error as WireCodecError:
            return error
        case DecodingError.keyNotFound(let key, let context):
            return .missingField(path(context.codingPath + [key]))
        case DecodingError.valueNotFound(_, let context):
            return .missingField(path(context.codingPath))
        case DecodingError.typeMismatch(let type, let context):
            return .malformed("\(path(context.codingPath)): expected \(type)")
        case DecodingError.dataCorrupted(let context):
            return context.codingPath.isEmpty ? .malformed("not valid JSON") : .malformed("\(path(context.codingPath)): invalid value")
        case EncodingError.invalidValue(_, let context):
            return .malformed("\(path(context.codingPath)): cannot be encoded")
        default:
            return .malformed("\(Swift.type(of: error))")
        }
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        guard !keys.isEmpty else { return "(root)" }
        var result = ""
        for key in keys {
            if let index = key.intValue, key.stringValue == "Index \(index)" || key.stringValue == "\(index)" {
                result += "[\(index)]"
            } else {
                result += result.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        return result
    }
}
