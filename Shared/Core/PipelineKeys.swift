/// Every Redis name of the pipeline (docs/pipeline.md), in one place for every service and worker.
///
/// `namespace` is `pingvas` in every deployment; tests pass their own so that parallel tests on one
/// Redis never share a stream, channel or consumer group. It is not read from the environment.
package struct PipelineKeys: Sendable, Hashable {
    package var namespace: String

    package init(namespace: String = "pingvas") {
        self.namespace = namespace
    }

    /// The outbox destination of a pool's jobs, `pingvas:queue:<pool>`: generation's relay hands
    /// rows for it to the job queue (`jobQueue`) instead of a stream.
    package func queue(_ pool: String) -> String { "\(namespace):queue:\(pool)" }
    /// The pool named by a `queue(_:)` destination, or nil for any other stream.
    package func pool(ofQueue destination: String) -> String? {
        let prefix = queue("")
        return destination.hasPrefix(prefix) && destination.count > prefix.count ? String(destination.dropFirst(prefix.count)) : nil
    }
    /// Prefix of every key of the job queue (`RedisJobQueue`, docs/scheduling.md).
    package var jobQueue: String { "\(namespace):q" }
    /// Where workers put queue messages they cannot decode.
    package var queueDeadLetter: String { "\(namespace):queue:dead" }
    /// A random value that lives as long as Redis keeps its data: when it is gone or changed, Redis
    /// lost data (restart without persistence, `FLUSHALL`) and the outbox relays send recent events again.
    package var epoch: String { "\(namespace):epoch" }
    /// Stream the workers report `job.started` / `job.finished` on; generation consumes it.
    package var results: String { "\(namespace):results" }
    /// Hash worker id → heartbeat JSON (model-router's registry).
    package var workers: String { "\(namespace):workers" }
    /// Pub/sub channel of one job: worker progress and generation's status changes.
    package func jobChannel(_ job: JobID) -> String { "\(namespace):job:\(job)" }
    /// Set when a job is canceled; the worker skips or stops it.
    package func canceled(_ job: JobID) -> String { "\(namespace):canceled:\(job)" }
    /// Stream of `generation.completed` for gallery.
    package var generationEvents: String { "\(namespace):events:generation" }
    /// Stream of `plan.changed` from payment-webhook for user.
    package var planEvents: String { "\(namespace):events:plan" }
    /// Stream of `user.deleted` from user for gallery, generation and payment-webhook (each in its own group).
    package var userEvents: String { "\(namespace):events:user" }
    /// Where event consumers put events they cannot decode or apply.
    package var eventsDeadLetter: String { "\(namespace):events:dead" }
    /// Fixed-window rate-limit counter of `subject` (`ip:…`, `user:…`) in minute `window`.
    package func rateLimit(_ subject: String, window: Int64) -> String { "\(namespace):ratelimit:\(subject):\(window)" }
    /// Set (no expiry) while an admin has suspended the user: the gateway refuses their tokens and keys.
    package func suspended(_ user: UserID) -> String { "\(namespace):suspended:\(user)" }

    /// generation's group on `results`.
    package static let resultsGroup = "generation"
    /// gallery's group on `generationEvents`.
    package static let galleryGroup = "gallery"
    /// user's group on `planEvents`.
    package static let userGroup = "user"
    /// payment-webhook's group on `userEvents`.
    package static let paymentGroup = "payment-webhook"
    /// Streams are trimmed to about this many entries.
    package static let streamMaxLength = 100_000
}
