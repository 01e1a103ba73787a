import Core
import Foundation

/// A worker's entry in `pingvas:workers`: `{id, queues, models_warm, busy, engine, seen_at}`.
///
/// `queues` are pool names (`cpu-preview`), `seen_at` an ISO 8601 time (unix seconds are accepted too).
/// Unknown fields (GPU, VRAM, load) are ignored here.
struct WorkerHeartbeat: Decodable, Sendable, Equatable {
    var id: String
    var queues: [String]
    var modelsWarm: [String]
    var busy: Bool
    var engine: String?
    var seenAt: Date

    init(id: String, queues: [String], modelsWarm: [String], busy: Bool, engine: String?, seenAt: Date) {
        self.id = id
        self.queues = queues
        self.modelsWarm = modelsWarm
        self.busy = busy
        self.engine = engine
        self.seenAt = seenAt
    }

    enum CodingKeys: String, CodingKey {
        case id, queues, busy, engine
        case modelsWarm = "models_warm"
        case seenAt = "seen_at"
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        queues = try c.decodeIfPresent([String].self, forKey: .queues) ?? []
        modelsWarm = try c.decodeIfPresent([String].self, forKey: .modelsWarm) ?? []
        busy = try c.decodeIfPresent(Bool.self, forKey: .busy) ?? false
        engine = try c.decodeIfPresent(String.self, forKey: .engine)
        if let seconds = try? c.decode(Double.self, forKey: .seenAt) {
            seenAt = Date(timeIntervalSince1970: seconds)
        } else {
            seenAt = try c.decode(Date.self, forKey: .seenAt)
        }
    }

    /// Whether the worker's last heartbeat is recent enough to count it as alive.
    func isAlive(at now: Date, ttl: Duration) -> Bool {
        now.timeIntervalSince(seenAt) <= ttl.inSeconds
    }
}
