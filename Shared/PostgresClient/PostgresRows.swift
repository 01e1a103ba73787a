/// The rows a query returned, copied out of libpq; `affectedRows` is the command's row count.
package struct PostgresRows: Sendable, RandomAccessCollection {
    package let columns: [String]
    package let rows: [PostgresRow]
    /// Rows inserted, updated, deleted or selected, as the server's command tag reports them.
    package let affectedRows: Int

    init(columns: [String], values: [[String?]], affectedRows: Int) {
        let lookup = PostgresColumns(columns)
        self.columns = columns
        self.rows = values.map { PostgresRow(columns: lookup, values: $0) }
        self.affectedRows = affectedRows
    }

    package var startIndex: Int { rows.startIndex }
    package var endIndex: Int { rows.endIndex }
    package subscript(position: Int) -> PostgresRow { rows[position] }
}

/// Column names and their positions, shared by all rows of one result.
final class PostgresColumns: Sendable {
    let names: [String]
    private let positions: [String: Int]

    init(_ names: [String]) {
        self.names = names
        // The first of duplicate names wins, as in most drivers.
        positions = Dictionary(names.enumerated().map { ($1, $0) }) { first, _ in first }
    }

    func position(of name: String) -> Int? { positions[name] }
}
