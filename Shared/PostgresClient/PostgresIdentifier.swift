/// SQL identifiers (schema names) that cannot travel as bind parameters, so they are validated and quoted.
enum PostgresIdentifier {
    /// Accepts `^[a-z_][a-z0-9_]{0,62}$` only.
    static func validate(_ name: String) throws(PostgresError) {
        let bytes = Array(name.utf8)
        let valid = !bytes.isEmpty && bytes.count <= 63
            && (bytes[0] == UInt8(ascii: "_") || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(bytes[0]))
            && bytes.allSatisfy { byte in
                byte == UInt8(ascii: "_") || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
            }
        guard valid else { throw PostgresError(.invalidIdentifier, message: "invalid identifier \"\(name)\"") }
    }

    /// The name validated and double-quoted, ready to splice into SQL text.
    static func quoted(_ name: String) throws(PostgresError) -> String {
        try validate(name)
        return "\"\(name)\""
    }
}
