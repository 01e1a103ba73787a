import Core
import ServiceKit

/// Everything the model-router service reads from the environment.
struct ModelRouterConfiguration: ServiceConfigurationProtocol {
    var service: ServiceConfiguration
    /// `PINGVAS_MODEL_CATALOG`: path of the catalog JSON (the repository's `config/models.json`).
    var catalogPath: String
    /// `PINGVAS_QUEUE_DEPTH_INTERVAL`: how often queue depths are exported (default 5 s).
    var queueDepthInterval: Duration
    /// A heartbeat older than this counts as a dead worker (docs/pipeline.md: 30 s).
    var heartbeatTTL: Duration = .seconds(30)
    /// Redis names; only tests change the prefix.
    var keys = PipelineKeys()

    init(reader: inout ConfigurationReader) {
        service = .read(serviceID: "model-router", defaultPort: 8085, needsDatabase: false, needsRedis: true, from: &reader)
        catalogPath = reader.string("PINGVAS_MODEL_CATALOG")
        queueDepthInterval = reader.duration("PINGVAS_QUEUE_DEPTH_INTERVAL", default: .seconds(5))
    }

    init(service: ServiceConfiguration, catalogPath: String, queueDepthInterval: Duration = .seconds(5), keys: PipelineKeys = PipelineKeys()) {
        self.service = service
        self.catalogPath = catalogPath
        self.queueDepthInterval = queueDepthInterval
        self.keys = keys
    }
}
