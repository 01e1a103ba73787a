import Core
import Foundation

/// The models this worker can be asked to run, from `PINGVAS_MODEL_CATALOG` (the file model-router reads).
///
/// Without a catalog the worker knows only the built-in `preview` model, which is all the preview
/// engine needs.
struct WorkerCatalog: Sendable {
    let models: [String: WorkerModel]

    init(models: [WorkerModel]) {
        self.models = Dictionary(models.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
    }

    static let builtIn = WorkerCatalog(models: [WorkerModel(id: "preview", family: "preview", engine: "preview", pool: "cpu-preview")])

    private struct File: Decodable {
        var models: [WorkerModel]
    }

    static func load(path: String) throws -> WorkerCatalog {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return WorkerCatalog(models: try WireCodec.decodeBody(File.self, from: Array(data)).models)
    }

    func model(_ id: String) -> WorkerModel? { models[id] }

    /// Ids of the models a given engine serves on the given pools, sorted.
    func modelIDs(engine: String, pools: [String]) -> [String] {
        models.values.filter { $0.engine == engine && pools.contains($0.pool) }.map(\.id).sorted()
    }
}
