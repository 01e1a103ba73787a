/// One result row: text values by column, decoded on demand.
package struct PostgresRow: Sendable {
    let columns: PostgresColumns
    /// Text values as the server sent them; nil is SQL NULL.
    package let values: [String?]

    package var columnNames: [String] { columns.names }

    /// The value of `column` as `type`; `String?.self` and other optionals accept NULL.
    ///
    /// Throws a `.decoding` error naming the column and the type, never the value.
    package func decode<T: PostgresDecodable>(_ type: T.Type, _ column: String) throws(PostgresError) -> T {
        guard let index = columns.position(of: column) else {
            throw PostgresError(.decoding, message: "no column \"\(column)\" in the result", column: column)
        }
        return try decodeValue(type, at: index, column: column)
    }

    /// The value at a zero-based column position.
    package func decode<T: PostgresDecodable>(_ type: T.Type, _ index: Int) throws(PostgresError) -> T {
        guard values.indices.contains(index) else {
            throw PostgresError(.decoding, message: "no column at index \(index) (row has \(values.count))")
        }
        return try decodeValue(type, at: index, column: columns.names[index])
    }

    /// True when `column` is SQL NULL (or absent).
    package func isNull(_ column: String) -> Bool {
        columns.position(of: column).map { values[$0] == nil } ?? true
    }

    private func decodeValue<T: PostgresDecodable>(_ type: T.Type, at index: Int, column: String) throws(PostgresError) -> T {
        guard let text = values[index] else {
            if let null = T.postgresNull { return null }
            throw PostgresError(.decoding, message: "column \"\(column)\" is NULL; expected \(T.self)", column: column)
        }
        do {
            return try T(postgresText: text)
        } catch {
            throw PostgresError(.decoding, message: "column \"\(column)\" is not a valid \(T.self)", column: column)
        }
    }
}
