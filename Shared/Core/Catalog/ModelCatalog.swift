import Foundation

/// The models this installation offers, read once at start-up from `config/models.json`.
package struct ModelCatalog: Sendable {
    package let models: [ModelEntry]
    private let byID: [String: ModelEntry]

    package init(models: [ModelEntry]) {
        self.models = models
        self.byID = Dictionary(models.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The file format: `{"version": 1, "models": [...]}`.
    private struct File: Decodable {
        var version: Int
        var models: [ModelEntry]
    }

    /// Reads and checks the catalog; throws one error listing every problem.
    package static func load(path: String) throws -> ModelCatalog {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ModelCatalogError(path: path, problems: ["cannot read the file (\(error.localizedDescription))"])
        }
        return try parse(Array(data), path: path)
    }

    package static func parse(_ bytes: [UInt8], path: String = "(inline)") throws -> ModelCatalog {
        let file: File
        do {
            file = try WireCodec.decodeBody(File.self, from: bytes)
        } catch {
            throw ModelCatalogError(path: path, problems: ["\(error)"])
        }
        var problems: [String] = []
        if file.version != 1 { problems.append("version \(file.version) is not supported (expected 1)") }
        if file.models.isEmpty { problems.append("no models") }
        let ids = file.models.map(\.id)
        for id in Set(ids) where ids.filter({ $0 == id }).count > 1 { problems.append("model \(id) is listed twice") }
        problems += file.models.flatMap(\.problems)
        guard problems.isEmpty else { throw ModelCatalogError(path: path, problems: problems) }
        return ModelCatalog(models: file.models)
    }

    package func model(_ id: String) -> ModelEntry? { byID[id] }

    /// Every pool some model uses, sorted, without repeats.
    package var pools: [String] { Array(Set(models.map(\.pool))).sorted() }
}
