/// Why the catalog file could not be used; names the file and every problem found.
struct ModelCatalogError: Error, CustomStringConvertible {
    var path: String
    var problems: [String]

    var description: String {
        "model catalog \(path) is unusable:\n" + problems.map { "  - \($0)" }.joined(separator: "\n")
    }
}
