package import Foundation

/// The envelope without its payload: enough to route, log, dedupe or dead-letter a message.
package struct EnvelopeHeader: Sendable, Equatable {
    /// The major wire version (`"1.3"` reads as 1).
    package var v: Int
    package var type: String
    package var id: EventID
    package var at: Date
    package var traceparent: String?

    package init(v: Int = WireCodec.currentVersion, type: String, id: EventID, at: Date, traceparent: String?) {
        self.v = v
        self.type = type
        self.id = id
        self.at = at
        self.traceparent = traceparent
    }

    enum CodingKeys: String, CodingKey {
        case v, type, id, at, traceparent, data
    }
}

extension EnvelopeHeader: Decodable {
    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        v = try Self.majorVersion(in: c)
        type = try c.decode(String.self, forKey: .type)
        id = try c.decode(EventID.self, forKey: .id)
        at = try c.decode(Date.self, forKey: .at)
        traceparent = try c.decodeIfPresent(String.self, forKey: .traceparent)
    }

    /// Reads `v` as an integer or a `"major.minor"` string and returns the major.
    private static func majorVersion(in c: KeyedDecodingContainer<CodingKeys>) throws -> Int {
        guard c.contains(.v), try !c.decodeNil(forKey: .v) else {
            throw WireCodecError.missingField("v")
        }
        if let number = try? c.decode(Int.self, forKey: .v) { return number }
        if let string = try? c.decode(String.self, forKey: .v) {
            let major = string.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            if !major.isEmpty, major.utf8.count <= 9, major.allSatisfy(\.isASCII), let value = Int(major) {
                return value
            }
        }
        throw WireCodecError.malformed("v: expected an integer or a \"major.minor\" string")
    }
}
