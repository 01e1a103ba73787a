package import Foundation

/// A worker's entry in `pingvas:workers` (worker id → this, as JSON), rewritten every few seconds.
///
/// `{id, queues, models_warm, busy, engine, engines, job_id, memory, seen_at}`: `queues` are pool
/// names (`cpu-preview`), `memory` what the worker's host (or GPU) has in use and free, `seen_at`
/// an ISO 8601 time (unix seconds are accepted too). model-router shows it per model; generation
/// counts the live workers of a pool for its ETAs.
package struct WorkerHeartbeat: Codable, Sendable, Equatable {
    package var id: String
    package var queues: [String]
    package var modelsWarm: [String]
    package var busy: Bool
    package var engine: String?
    package var engines: [String]
    package var jobID: JobID?
    package var memory: Memory?
    package var seenAt: Date

    /// Bytes; `device` is `cpu` (host memory: the process's resident set and what the host has
    /// available) or the GPU's name with its memory.
    package struct Memory: Codable, Sendable, Equatable {
        package var device: String
        package var usedBytes: Int64
        package var freeBytes: Int64
        package var totalBytes: Int64

        package init(device: String, usedBytes: Int64, freeBytes: Int64, totalBytes: Int64) {
            self.device = device
            self.usedBytes = usedBytes
            self.freeBytes = freeBytes
            self.totalBytes = totalBytes
        }

        enum CodingKeys: String, CodingKey {
            case device
            case usedBytes = "used_bytes"
            case freeBytes = "free_bytes"
            case totalBytes = "total_bytes"
        }
    }

    package init(
        id: String, queues: [String], modelsWarm: [String], busy: Bool, engine: String?, engines: [String] = [],
        jobID: JobID? = nil, memory: Memory? = nil, seenAt: Date
    ) {
        self.id = id
        self.queues = queues
        self.modelsWarm = modelsWarm
        self.busy = busy
        self.engine = engine
        self.engines = engines
        self.jobID = jobID
        self.memory = memory
        self.seenAt = seenAt
    }

    enum CodingKeys: String, CodingKey {
        case id, queues, busy, engine, engines, memory
        case modelsWarm = "models_warm"
        case jobID = "job_id"
        case seenAt = "seen_at"
    }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        queues = try c.decodeIfPresent([String].self, forKey: .queues) ?? []
        modelsWarm = try c.decodeIfPresent([String].self, forKey: .modelsWarm) ?? []
        busy = try c.decodeIfPresent(Bool.self, forKey: .busy) ?? false
        engine = try c.decodeIfPresent(String.self, forKey: .engine)
        engines = try c.decodeIfPresent([String].self, forKey: .engines) ?? []
        jobID = try? c.decodeIfPresent(JobID.self, forKey: .jobID)
        memory = try? c.decodeIfPresent(Memory.self, forKey: .memory)
        if let seconds = try? c.decode(Double.self, forKey: .seenAt) {
            seenAt = Date(timeIntervalSince1970: seconds)
        } else {
            seenAt = try c.decode(Date.self, forKey: .seenAt)
        }
    }

    /// Whether the worker's last heartbeat is recent enough to count it as alive.
    package func isAlive(at now: Date, ttl: Duration) -> Bool {
        now.timeIntervalSince(seenAt) <= ttl.inSeconds
    }
}
