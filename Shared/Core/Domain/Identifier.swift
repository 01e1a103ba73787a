package import Foundation

/// A typed UUID: `UserID` and `JobID` cannot be mixed up, yet both travel as a plain string.
///
/// The wire and text form is the lowercased UUID (`"3f2b...-..."`); parsing accepts either case
/// and rejects anything that is not a UUID.
package struct Identifier<Tag>: Hashable, Sendable, Comparable, LosslessStringConvertible {
    package let uuid: UUID

    /// A new random (version 4) identifier.
    package init() { uuid = UUID() }

    package init(uuid: UUID) { self.uuid = uuid }

    /// Parses the text form; nil for anything that is not a UUID.
    package init?(_ string: String) {
        guard string.utf8.count == 36, let uuid = UUID(uuidString: string) else { return nil }
        self.uuid = uuid
    }

    package var description: String { uuid.uuidString.lowercased() }

    package static func < (lhs: Self, rhs: Self) -> Bool { lhs.description < rhs.description }
}

extension Identifier: Codable {
    package init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let string = try container.decode(String.self)
        guard let parsed = Self(string) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a UUID")
        }
        self = parsed
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// Phantom tags that give each kind of id its own type.
package enum IdentifierTag {
    package enum User {}
    package enum Job {}
    package enum Image {}
    package enum Event {}
}

package typealias UserID = Identifier<IdentifierTag.User>
package typealias JobID = Identifier<IdentifierTag.Job>
package typealias ImageID = Identifier<IdentifierTag.Image>
package typealias EventID = Identifier<IdentifierTag.Event>
