/// Why migrations could not be loaded or applied.
package enum MigrationError: Error, Equatable, CustomStringConvertible {
    /// A `.sql` file not named `<version>_<name>.sql` (e.g. `0003_add_index.sql`).
    case badFileName(String)
    /// Two files share a version number.
    case duplicateVersion(Int)
    /// An applied migration's SQL differs from what was applied; edit by adding a new migration instead.
    case checksumMismatch(version: Int, name: String)

    package var description: String {
        switch self {
        case .badFileName(let file): "migration file \"\(file)\" is not named <version>_<name>.sql"
        case .duplicateVersion(let version): "two migration files have version \(version)"
        case .checksumMismatch(let version, let name):
            "migration \(version) (\(name)) changed after it was applied; add a new migration instead"
        }
    }
}
