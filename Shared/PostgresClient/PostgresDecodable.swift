public import Foundation

/// A Swift type a column's text value decodes into.
package protocol PostgresDecodable {
    /// Parses PostgreSQL's text output format; throws when the text is not a valid value.
    init(postgresText: String) throws

    /// The value SQL NULL decodes to; nil (the default) means NULL is an error for this type.
    static var postgresNull: Self? { get }
}

extension PostgresDecodable {
    package static var postgresNull: Self? { nil }
}

/// Thrown by `init(postgresText:)`; `PostgresRow.decode` turns it into a `.decoding` `PostgresError`.
package struct PostgresTextInvalid: Error {
    package init() {}
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    package init(postgresText: String) throws { self = .some(try Wrapped(postgresText: postgresText)) }
    package static var postgresNull: Self? { .some(.none) }
}

extension String: PostgresDecodable {
    package init(postgresText: String) { self = postgresText }
}

extension Int: PostgresDecodable {
    package init(postgresText: String) throws {
        guard let value = Int(postgresText) else { throw PostgresTextInvalid() }
        self = value
    }
}

extension Int64: PostgresDecodable {
    package init(postgresText: String) throws {
        guard let value = Int64(postgresText) else { throw PostgresTextInvalid() }
        self = value
    }
}

extension Int32: PostgresDecodable {
    package init(postgresText: String) throws {
        guard let value = Int32(postgresText) else { throw PostgresTextInvalid() }
        self = value
    }
}

extension Int16: PostgresDecodable {
    package init(postgresText: String) throws {
        guard let value = Int16(postgresText) else { throw PostgresTextInvalid() }
        self = value
    }
}

extension Bool: PostgresDecodable {
    package init(postgresText: String) throws {
        switch postgresText {
        case "t", "true": self = true
        case "f", "false": self = false
        default: throw PostgresTextInvalid()
        }
    }
}

extension Double: PostgresDecodable {
    package init(postgresText: String) throws {
        switch postgresText {
        case "NaN": self = .nan
        case "Infinity": self = .infinity
        case "-Infinity": self = -.infinity
        default:
            guard let value = Double(postgresText) else { throw PostgresTextInvalid() }
            self = value
        }
    }
}

extension UUID: PostgresDecodable {
    package init(postgresText: String) throws {
        guard let value = UUID(uuidString: postgresText) else { throw PostgresTextInvalid() }
        self = value
    }
}

extension Date: PostgresDecodable {
    /// `timestamptz`, `timestamp` (taken as UTC) or `date` in the ISO DateStyle; ±infinity map to distantFuture/Past.
    package init(postgresText: String) throws {
        guard let value = PostgresTimestamp.parse(postgresText) else { throw PostgresTextInvalid() }
        self = value
    }
}

extension Data: PostgresDecodable {
    package init(postgresText: String) throws {
        guard let bytes = PostgresBytea.parse(postgresText) else { throw PostgresTextInvalid() }
        self = Data(bytes)
    }
}

extension Array: PostgresDecodable where Element == UInt8 {
    package init(postgresText: String) throws {
        guard let bytes = PostgresBytea.parse(postgresText) else { throw PostgresTextInvalid() }
        self = bytes
    }
}
