import Core

/// The Redis names generation reads and writes, as docs/pipeline.md fixes them.
///
/// `namespace` is `pingvas` in every deployment; tests pass their own so that parallel tests on one
/// Redis never share a stream or consumer group. It is not read from the environment.
struct RedisKeys: Sendable {
    var namespace: String = "pingvas"

    /// Stream the workers report `JobStarted` / `JobFinished` on.
    var results: String { "\(namespace):results" }
    /// Stream of `GenerationCompleted` for gallery.
    var generationEvents: String { "\(namespace):events:generation" }
    /// Consumer group of this service on `results`.
    var resultsGroup: String { "generation" }

    /// The stream of a worker pool. The router's `queue` may be a pool name (`sd15`) or already the
    /// full stream name (`pingvas:queue:sd15`); both land on the same stream.
    func queueStream(_ queue: String) -> String {
        let prefix = "pingvas:queue:"
        let pool = queue.hasPrefix(prefix) ? String(queue.dropFirst(prefix.count)) : queue
        return "\(namespace):queue:\(pool)"
    }

    /// Pub/sub channel of one job: worker progress and generation's status changes.
    func jobChannel(_ id: JobID) -> String { "pingvas:job:\(id)" }
    /// Set when a job is canceled; the worker skips or stops it.
    func canceledKey(_ id: JobID) -> String { "pingvas:canceled:\(id)" }
}
