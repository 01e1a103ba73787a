import Core

/// Whether a model can run now: `available` (a live worker has it warm), `cold` (a live worker serves
/// its pool but must load it first), `offline` (no live worker serves its pool; the pool may be
/// scaled to zero and the job waits for a node).
struct ModelAvailability: Encodable, Sendable, Equatable {
    var status: String
    var warmWorkers: Int
    var workers: Int

    enum CodingKeys: String, CodingKey {
        case status, workers
        case warmWorkers = "warm_workers"
    }

    init(model: ModelEntry, workers live: [WorkerHeartbeat]) {
        let serving = live.filter { $0.queues.contains(model.pool) }
        let warm = serving.filter { $0.modelsWarm.contains(model.id) }
        workers = serving.count
        warmWorkers = warm.count
        status = !warm.isEmpty ? "available" : (serving.isEmpty ? "offline" : "cold")
    }
}
