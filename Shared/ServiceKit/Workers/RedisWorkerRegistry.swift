package import Core
import Foundation
package import Logging
package import RedisClient

/// The worker registry in the Redis hash `pingvas:workers` (worker id → heartbeat JSON).
///
/// Entries older than the TTL are dead: skipped, and deleted lazily with a compare-and-delete
/// script so a heartbeat written between our read and the delete is never lost.
package struct RedisWorkerRegistry: WorkerRegistry {
    package let redis: RedisPool
    package let key: String
    package let ttl: Duration
    package let logger: Logger

    package init(redis: RedisPool, key: String, ttl: Duration = .seconds(30), logger: Logger) {
        self.redis = redis
        self.key = key
        self.ttl = ttl
        self.logger = logger
    }

    static let deleteIfUnchanged = RedisScript(
        "if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('HDEL', KEYS[1], ARGV[1]) end return 0"
    )

    package func liveWorkers() async throws -> [WorkerHeartbeat] {
        let reply = try await redis.send("HGETALL", key)
        let flat = reply.array ?? []
        let now = Date()
        var live: [WorkerHeartbeat] = []
        var index = 0
        while index + 1 < flat.count {
            defer { index += 2 }
            guard let field = flat[index].string, let raw = flat[index + 1].bytes else { continue }
            guard let heartbeat = try? WireCodec.decodeBody(WorkerHeartbeat.self, from: raw) else {
                logger.warning("unreadable worker heartbeat", metadata: ["worker_id": "\(field)"])
                continue
            }
            if heartbeat.isAlive(at: now, ttl: ttl) {
                live.append(heartbeat)
            } else {
                logger.info("worker heartbeat expired; removing", metadata: ["worker_id": "\(field)"])
                _ = try? await redis.evalsha(Self.deleteIfUnchanged, keys: [key], arguments: [field, String(decoding: raw, as: UTF8.self)])
            }
        }
        return live.sorted { $0.id < $1.id }
    }
}
