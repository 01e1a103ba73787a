/// Why migrations could not be applied.
package enum MigrationError: Error, Equatable, CustomStringConvertible {
    /// Two migrations share a version number.
    case duplicateVersion(Int)
    /// An applied migration's SQL differs from what was applied; edit by adding a new migration instead.
    case checksumMismatch(version: Int, name: String)

    package var description: String {
        switch self {
        case .duplicateVersion(let version): "two migrations have version \(version)"
        case .checksumMismatch(let version, let name):
            "migration \(version) (\(name)) changed after it was applied; add a new migration instead"
        }
    }
}
