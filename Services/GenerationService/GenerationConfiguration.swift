import Foundation
import Core
import ServiceKit

/// Everything the generation service reads from the environment.
struct GenerationConfiguration: ServiceConfigurationProtocol {
    var service: ServiceConfiguration
    /// Base URL of the user service (`PINGVAS_USER_URL`), e.g. `http://127.0.0.1:8081`.
    var userURL: String
    /// Base URL of the model router (`PINGVAS_MODEL_ROUTER_URL`), e.g. `http://127.0.0.1:8085`.
    var modelRouterURL: String
    /// Overrides `Plan.maxQueuedJobs` for every plan when set (`PINGVAS_MAX_QUEUED_PER_USER`).
    var maxQueuedPerUser: Int?
    /// How long a result may stay pending on a consumer before another one claims it (`PINGVAS_RESULT_LEASE`).
    var resultLease: Duration
    /// How often the outbox relay looks for unsent rows when idle (`PINGVAS_OUTBOX_INTERVAL`).
    var outboxInterval: Duration
    /// Time limit of one call to user or model-router (`PINGVAS_UPSTREAM_TIMEOUT`).
    var upstreamTimeout: Duration
    /// Redis stream and channel names; the contract's names unless a test isolates itself.
    var keys = PipelineKeys()

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
