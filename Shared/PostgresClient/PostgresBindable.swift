public import Foundation

/// A value that can travel as a text-format bind parameter (`$1`, `$2`, ...).
package protocol PostgresBindable: Sendable {
    /// The value in PostgreSQL's text input format; nil binds SQL NULL.
    var postgresText: String? { get }
    /// The value as a binary bytea parameter instead (byte arrays: no hex text twice their size).
    var postgresBinaryBytea: [UInt8]? { get }
}

extension PostgresBindable {
    package var postgresBinaryBytea: [UInt8]? { nil }
}

extension String: PostgresBindable {
    package var postgresText: String? { self }
}

extension Substring: PostgresBindable {
    package var postgresText: String? { String(self) }
}

extension Int: PostgresBindable {
    package var postgresText: String? { String(self) }
}

extension Int64: PostgresBindable {
    package var postgresText: String? { String(self) }
}

extension Int32: PostgresBindable {
    package var postgresText: String? { String(self) }
}

extension Int16: PostgresBindable {
    package var postgresText: String? { String(self) }
}

extension Bool: PostgresBindable {
    package var postgresText: String? { self ? "true" : "false" }
}

extension Double: PostgresBindable {
    package var postgresText: String? {
        if isNaN { return "NaN" }
        if isInfinite { return self > 0 ? "Infinity" : "-Infinity" }
        return String(self)
    }
}

extension UUID: PostgresBindable {
    package var postgresText: String? { uuidString.lowercased() }
}

extension Date: PostgresBindable {
    /// ISO 8601 in UTC with microseconds, e.g. `2024-05-01T12:30:00.250000Z`.
    package var postgresText: String? { PostgresTimestamp.format(self) }
}

extension Data: PostgresBindable {
    /// bytea hex input format.
    package var postgresText: String? { PostgresBytea.format(self) }
    package var postgresBinaryBytea: [UInt8]? { [UInt8](self) }
}

extension Array: PostgresBindable where Element == UInt8 {
    package var postgresText: String? { PostgresBytea.format(self) }
    package var postgresBinaryBytea: [UInt8]? { self }
}

extension Optional: PostgresBindable where Wrapped: PostgresBindable {
    package var postgresText: String? { self?.postgresText }
    package var postgresBinaryBytea: [UInt8]? { self?.postgresBinaryBytea }
}
