/// Why the catalog file could not be used; names the file and every problem found.
package struct ModelCatalogError: Error, CustomStringConvertible {
    package var path: String
    package var problems: [String]

    package var description: String {
        "model catalog \(path) is unusable:\n" + problems.map { "  - \($0)" }.joined(separator: "\n")
    }
}
