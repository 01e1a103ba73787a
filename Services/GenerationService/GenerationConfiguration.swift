import Core
import Foundation
import ServiceKit

/// Everything the generation service reads from the environment.
struct GenerationConfiguration: ServiceConfigurationProtocol {
    var service: ServiceConfiguration
    /// Base URL of the user service (`PINGVAS_USER_URL`), e.g. `http://127.0.0.1:8081`.
    var userURL: String
    /// Base URL of the model router (`PINGVAS_MODEL_ROUTER_URL`), e.g. `http://127.0.0.1:8085`.
    var modelRouterURL: String
    /// Base URL of gallery (`PINGVAS_GALLERY_URL`), which records a job's images before it reads
    /// succeeded; nil: only the `generation.completed` event records them.
    var galleryURL: String?
    /// Overrides `Plan.maxQueuedJobs` for every plan when set (`PINGVAS_MAX_QUEUED_PER_USER`).
    var maxQueuedPerUser: Int?
    /// How long a result may stay pending on a consumer before another one claims it (`PINGVAS_RESULT_LEASE`).
    var resultLease: Duration
    /// How often the outbox relay looks for unsent rows when idle (`PINGVAS_OUTBOX_INTERVAL`).
    var outboxInterval: Duration
    /// Time limit of one call to user or model-router (`PINGVAS_UPSTREAM_TIMEOUT`).
    var upstreamTimeout: Duration
    /// Redis stream and channel names; the contract's names unless a test isolates itself.
    var keys: PipelineKeys = PipelineKeys()
    /// How long a queued job may wait to start, per plan (`PINGVAS_QUEUE_DEADLINES`,
    /// `free=30m,basic=1h,pro=2h,studio=4h`); then it fails `expired` and its credits come back.
    var queueDeadlines: [Plan: Duration] = Self.defaultQueueDeadlines
    /// A job may run `runTimeoutFactor` × the router's estimate, at least `runTimeoutFloor`
    /// (`PINGVAS_RUN_TIMEOUT_FACTOR`, `PINGVAS_RUN_TIMEOUT_FLOOR`); then it fails `timeout`.
    var runTimeoutFactor: Double = 5
    var runTimeoutFloor: Duration = .seconds(120)
    /// Retries of attempts that failed for a passing reason (`PINGVAS_JOB_MAX_RETRIES`, `PINGVAS_RETRY_BASE`, `PINGVAS_RETRY_CAP`).
    var retries = RetryPolicy()
    /// Deliveries after which a job whose worker keeps dying fails `worker_lost` (`PINGVAS_JOB_MAX_DELIVERIES`).
    var maxDeliveries = 3
    /// How often the reconciler looks for lost, dead, expired and overrunning jobs (`PINGVAS_RECONCILE_INTERVAL`).
    var reconcileInterval: Duration = .seconds(1)
    /// An unfinished job unchanged this long that Redis does not hold is enqueued again (`PINGVAS_LOST_JOB_GRACE`).
    var lostJobGrace: Duration = .seconds(5)
    /// Unfinished jobs the reconciler checks per pass (tests make it small).
    var reconcilePageSize = 500
    /// Priority, weight, running cap and affinity bound per plan (`PINGVAS_SCHEDULING`, e.g.
    /// `studio.weight=6,free.max_running=2,pro.affinity_ms=5000`; docs/scheduling.md).
    var scheduling = SchedulingPolicy.default
    /// Hosts users' webhooks may reach even though they resolve to loopback or private addresses
    /// (`PINGVAS_USER_WEBHOOK_ALLOWED_HOSTS`, comma-separated; for tests and local setups only).
    var webhookAllowedHosts: Set<String> = []
    /// First retry delay of a failed webhook delivery, ×4 per attempt (`PINGVAS_USER_WEBHOOK_RETRY_BASE`).
    var webhookRetryBase: Duration = .seconds(5)

    static let defaultQueueDeadlines: [Plan: Duration] = [.free: .seconds(1800), .basic: .seconds(3600), .pro: .seconds(7200), .studio: .seconds(14_400)]

    init(
        service: ServiceConfiguration, userURL: String, modelRouterURL: String, maxQueuedPerUser: Int? = nil,
        resultLease: Duration = .seconds(60), outboxInterval: Duration = .milliseconds(100),
        upstreamTimeout: Duration = .seconds(10), keys: PipelineKeys = PipelineKeys()
    ) {
        self.service = service
        self.userURL = userURL
        self.modelRouterURL = modelRouterURL
        self.maxQueuedPerUser = maxQueuedPerUser
        self.resultLease = resultLease
        self.outboxInterval = outboxInterval
        self.upstreamTimeout = upstreamTimeout
        self.keys = keys
    }

    init(reader: inout ConfigurationReader) {
        service = .read(serviceID: "generation", defaultPort: 8082, needsDatabase: true, needsRedis: true, from: &reader)
        userURL = Self.baseURL(reader.string("PINGVAS_USER_URL"), key: "PINGVAS_USER_URL", reader: &reader)
        modelRouterURL = Self.baseURL(reader.string("PINGVAS_MODEL_ROUTER_URL"), key: "PINGVAS_MODEL_ROUTER_URL", reader: &reader)
        galleryURL = reader.optionalString("PINGVAS_GALLERY_URL").flatMap { $0.isEmpty ? nil : Self.baseURL($0, key: "PINGVAS_GALLERY_URL", reader: &reader) }
        if let raw = reader.optionalString("PINGVAS_MAX_QUEUED_PER_USER") {
            if let value = Int(raw), value > 0 {
                maxQueuedPerUser = value
            } else {
                reader.reject("PINGVAS_MAX_QUEUED_PER_USER", because: "expected a positive integer")
            }
        }
        resultLease = reader.duration("PINGVAS_RESULT_LEASE", default: .seconds(60))
        outboxInterval = reader.duration("PINGVAS_OUTBOX_INTERVAL", default: .milliseconds(100))
        upstreamTimeout = reader.duration("PINGVAS_UPSTREAM_TIMEOUT", default: .seconds(10))
        webhookAllowedHosts = Set((reader.optionalString("PINGVAS_USER_WEBHOOK_ALLOWED_HOSTS") ?? "").split(separator: ",").map {
            $0.trimmingCharacters(in: .whitespaces).lowercased()
        }.filter { !$0.isEmpty })
        webhookRetryBase = reader.duration("PINGVAS_USER_WEBHOOK_RETRY_BASE", default: .seconds(5))
        if let text = reader.optionalString("PINGVAS_QUEUE_DEADLINES") {
            if let parsed = Self.parseDeadlines(text) {
                queueDeadlines.merge(parsed) { _, new in new }
            } else {
                reader.reject("PINGVAS_QUEUE_DEADLINES", because: "plan=duration pairs, e.g. free=30m,pro=2h")
            }
        }
        if let text = reader.optionalString("PINGVAS_SCHEDULING") {
            do {
                scheduling = try SchedulingPolicy.parse(text)
            } catch {
                reader.reject("PINGVAS_SCHEDULING", because: error.reason)
            }
        }
        runTimeoutFactor = Double(reader.int("PINGVAS_RUN_TIMEOUT_FACTOR", default: 5))
        if runTimeoutFactor < 1 { reader.reject("PINGVAS_RUN_TIMEOUT_FACTOR", because: "at least 1") }
        runTimeoutFloor = reader.duration("PINGVAS_RUN_TIMEOUT_FLOOR", default: .seconds(120))
        retries.maxRetries = reader.int("PINGVAS_JOB_MAX_RETRIES", default: 3)
        if retries.maxRetries < 0 { reader.reject("PINGVAS_JOB_MAX_RETRIES", because: "0 or more") }
        retries.base = reader.duration("PINGVAS_RETRY_BASE", default: .seconds(2))
        retries.cap = reader.duration("PINGVAS_RETRY_CAP", default: .seconds(60))
        maxDeliveries = reader.int("PINGVAS_JOB_MAX_DELIVERIES", default: 3)
        if maxDeliveries < 1 { reader.reject("PINGVAS_JOB_MAX_DELIVERIES", because: "at least 1") }
        reconcileInterval = reader.duration("PINGVAS_RECONCILE_INTERVAL", default: .seconds(1))
        lostJobGrace = reader.duration("PINGVAS_LOST_JOB_GRACE", default: .seconds(5))
    }

    /// `free=30m,basic=1h`: plan → duration; nil when any part is not one.
    static func parseDeadlines(_ text: String) -> [Plan: Duration]? {
        var result: [Plan: Duration] = [:]
        for part in text.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2, let plan = Plan(rawValue: pair[0]), let duration = ConfigurationReader.parseDuration(pair[1]),
                  duration > .zero
            else { return nil }
            result[plan] = duration
        }
        return result
    }

    /// How long a job of `plan` may wait to start.
    func queueDeadline(for plan: Core.Plan) -> Duration { queueDeadlines[plan] ?? Self.defaultQueueDeadlines[plan] ?? .seconds(1800) }

    /// The run deadline of a job the router expects to take `estimate` seconds.
    func runTimeout(estimate: Double?) -> Int {
        let floor = runTimeoutFloor.inSeconds
        return Int(max(floor, (estimate ?? 0) * runTimeoutFactor).rounded(.up))
    }

    /// The queued-job cap for a caller on `plan`.
    func maxQueued(for plan: Core.Plan) -> Int { maxQueuedPerUser ?? plan.maxQueuedJobs }

    private static func baseURL(_ raw: String, key: String, reader: inout ConfigurationReader) -> String {
        guard !raw.isEmpty else { return raw }
        guard let url = URL(string: raw), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
            reader.reject(key, because: "expected an http(s) URL")
            return raw
        }
        return raw.hasSuffix("/") ? String(raw.dropLast()) : raw
    }
}
