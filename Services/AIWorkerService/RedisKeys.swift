import Core

/// The Redis names of docs/pipeline.md; `prefix` is `pingvas` except in tests, which need their own.
struct RedisKeys: Sendable {
    var prefix: String = "pingvas"

    /// Stream of a worker pool: `pingvas:queue:<pool>`.
    func queue(_ pool: String) -> String { "\(prefix):queue:\(pool)" }
    /// Where malformed queue messages go.
    var deadLetter: String { "\(prefix):queue:dead" }
    var results: String { "\(prefix):results" }
    func progressChannel(_ job: JobID) -> String { "\(prefix):job:\(job)" }
    func canceled(_ job: JobID) -> String { "\(prefix):canceled:\(job)" }
    var workers: String { "\(prefix):workers" }

    /// The consumer group of every queue stream.
    static let workerGroup = "workers"
    /// Streams are trimmed to about this many entries.
    static let streamMaxLength = 100_000
}
