package import Foundation

/// A versioned message as it travels on a queue or event stream:
/// `{"v": 1, "type": "...", "id": "<uuid>", "at": "<ISO 8601>", "traceparent": "...", "data": {...}}`.
///
/// `id` is the idempotency key of the delivery; consumers dedupe on it. `at` travels with
/// millisecond precision. Decode through `WireCodec.decode`, which checks the version and type
/// before touching `data`.
package struct Envelope<Payload: WireMessage>: Sendable {
    /// The major wire version the message was written with.
    package var v: Int
    package var type: String
    package var id: EventID
    package var at: Date
    package var traceparent: String?
    package var data: Payload

    package init(id: EventID = .init(), at: Date = .now, traceparent: String? = nil, data: Payload) {
        self.v = WireCodec.currentVersion
        self.type = Payload.type
        self.id = id
        self.at = at
        self.traceparent = traceparent
        self.data = data
    }

    package var header: EnvelopeHeader { EnvelopeHeader(v: v, type: type, id: id, at: at, traceparent: traceparent) }
}

extension Envelope: Equatable where Payload: Equatable {}

extension Envelope: Codable {
    package init(from decoder: any Decoder) throws {
        let header = try EnvelopeHeader(from: decoder)
        guard header.v == WireCodec.currentVersion else { throw WireCodecError.unsupportedVersion(header.v) }
        guard header.type == Payload.type else {
            throw WireCodecError.typeMismatch(expected: Payload.type, actual: header.type)
        }
        let c = try decoder.container(keyedBy: EnvelopeHeader.CodingKeys.self)
        guard c.contains(.data), try !c.decodeNil(forKey: .data) else { throw WireCodecError.missingField("data") }
        v = header.v
        type = header.type
        id = header.id
        at = header.at
        traceparent = header.traceparent
        data = try c.decode(Payload.self, forKey: .data)
    }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: EnvelopeHeader.CodingKeys.self)
        try c.encode(v, forKey: .v)
        try c.encode(type, forKey: .type)
        try c.encode(id, forKey: .id)
        try c.encode(at, forKey: .at)
        try c.encodeIfPresent(traceparent, forKey: .traceparent)
        try c.encode(data, forKey: .data)
    }
}
