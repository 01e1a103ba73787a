/// The Redis names of docs/pipeline.md; `prefix` is `pingvas` except in tests, which need their own.
struct RedisKeys: Sendable {
    var prefix: String = "pingvas"

    /// Stream of a worker pool: `pingvas:queue:<pool>`.
    func queue(_ pool: String) -> String { "\(prefix):queue:\(pool)" }
    /// Hash worker id → heartbeat JSON.
    var workers: String { "\(prefix):workers" }
    /// The consumer group of every queue stream.
    static let workerGroup = "workers"
}
