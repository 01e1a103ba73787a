/// An amount of credits: whole numbers only, encoded as a bare JSON integer.
///
/// Arithmetic traps on overflow like `Int64`; amounts in this product stay far below that.
package struct Credits: Hashable, Sendable, Comparable, AdditiveArithmetic, ExpressibleByIntegerLiteral, CustomStringConvertible {
    package var value: Int64

    package init(_ value: Int64) { self.value = value }

    package init(integerLiteral value: Int64) { self.value = value }

    package static var zero: Credits { Credits(0) }

    package static func + (lhs: Credits, rhs: Credits) -> Credits { Credits(lhs.value + rhs.value) }

    package static func - (lhs: Credits, rhs: Credits) -> Credits { Credits(lhs.value - rhs.value) }

    package static func * (lhs: Credits, rhs: Int64) -> Credits { Credits(lhs.value * rhs) }

    package static func < (lhs: Credits, rhs: Credits) -> Bool { lhs.value < rhs.value }

    package var description: String { String(value) }
}

extension Credits: Codable {
    package init(from decoder: any Decoder) throws {
        value = try decoder.singleValueContainer().decode(Int64.self)
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }
}
