import Core

/// Whether a model can run now: `available` (a live worker has it warm), `cold` (a live worker serves
/// its pool but must load it first), `offline` (no live worker serves its pool; the pool may be
/// scaled to zero and the job waits for a node).
///
/// `queue` (when the job queue can be read): jobs of the model's pool waiting and running, and the
/// seconds a job submitted now would wait to start.
struct ModelAvailability: Encodable, Sendable, Equatable {
    var status: String
    var warmWorkers: Int
    var workers: Int
    var queue: Queue?

    struct Queue: Encodable, Sendable, Equatable {
        var waiting: Int
        var running: Int
        var waitSeconds: Double

        enum CodingKeys: String, CodingKey {
            case waiting, running
            case waitSeconds = "wait_seconds"
        }
    }

    enum CodingKeys: String, CodingKey {
        case status, workers, queue
        case warmWorkers = "warm_workers"
    }

    init(model: ModelEntry, workers live: [WorkerHeartbeat], queue: Queue? = nil) {
        self.queue = queue
        let serving = live.filter { $0.queues.contains(model.pool) }
        let warm = serving.filter { $0.modelsWarm.contains(model.id) }
        workers = serving.count
        warmWorkers = warm.count
        status = !warm.isEmpty ? "available" : (serving.isEmpty ? "offline" : "cold")
    }
}
