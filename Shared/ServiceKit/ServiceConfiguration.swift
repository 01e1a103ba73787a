import Foundation
package import Logging
package import RedisClient

/// The settings every executable shares; each service's own configuration embeds one.
package struct ServiceConfiguration: Sendable {
    /// Kebab-case id: `gateway`, `user`, ... (also the log label and metrics `service` label).
    package var serviceID: String
    package var host: String
    package var port: Int
    package var logLevel: Logger.Level
    /// PostgreSQL URL, for services that own tables.
    package var databaseURL: String?
    /// This service's own schema: `<PINGVAS_DB_SCHEMA>_<service id>`, so no service reads another's tables.
    package var databaseSchema: String
    package var databasePoolSize: Int
    package var redisURL: String?
    /// `PINGVAS_REDIS_SENTINELS` (`host:port,...`) and `PINGVAS_REDIS_SENTINEL_MASTER`: with them the
    /// master is found through Redis Sentinel and followed across failovers; `redisURL` then gives
    /// only the password and database.
    package var redisSentinels: [RedisSentinelEndpoint] = []
    package var redisSentinelMaster: String?
    package var redisPoolSize: Int
    /// Where spans go, OTLP over HTTP (`PINGVAS_OTEL_ENDPOINT`, e.g. `http://jaeger:4318`); nil: no tracing.
    package var otelEndpoint: String?
    /// The share of new traces recorded (`PINGVAS_OTEL_SAMPLE_RATIO`, 0 to 1, default 1).
    package var otelSampleRatio: Double = 1
    /// How long a dependency check in `/readyz` may take before it counts as failed.
    package var readinessTimeout: Duration
    /// `PINGVAS_INTERNAL_SECRET`: signs the identity the gateway forwards and the services'
    /// credentials for `/internal/*` (`InternalTrust`). Every service reads it.
    package var internalSecret: String
    /// `PINGVAS_METRICS_PORT`: a second listener that serves only `GET /metrics`, so a
    /// NetworkPolicy can let Prometheus reach the metrics and nothing else. Unset: `/metrics` on
    /// `port` only (it is served there as well, for `make run` and compose).
    package var metricsPort: Int?
    /// How long a client has to send a whole request head, from the connection's start or the
    /// next request's first byte (slowloris); then the connection is closed.
    package var requestHeadTimeout: Duration = .seconds(10)
    /// How long a connection with no request in progress stays open. Above ingress-nginx's 60 s
    /// upstream keep-alive, so the proxy closes first and never reuses a connection being closed.
    package var idleTimeout: Duration = .seconds(75)

    package init(
        serviceID: String, host: String = "127.0.0.1", port: Int, logLevel: Logger.Level = .info,
        databaseURL: String? = nil, databaseSchema: String? = nil, databasePoolSize: Int = 10,
        redisURL: String? = nil, redisPoolSize: Int = 10, readinessTimeout: Duration = .seconds(2), internalSecret: String
    ) {
        self.internalSecret = internalSecret
        self.serviceID = serviceID
        self.host = host
        self.port = port
        self.logLevel = logLevel
        self.databaseURL = databaseURL
        self.databaseSchema = databaseSchema ?? Self.schemaName(prefix: "pingvas_dev", serviceID: serviceID)
        self.databasePoolSize = databasePoolSize
        self.redisURL = redisURL
        self.redisPoolSize = redisPoolSize
        self.readinessTimeout = readinessTimeout
    }

    /// Reads the shared keys. `PINGVAS_DATABASE_URL` / `PINGVAS_REDIS_URL` are required only when
    /// the service says it needs them.
    package static func read(
        serviceID: String, defaultPort: Int, needsDatabase: Bool, needsRedis: Bool,
        from reader: inout ConfigurationReader
    ) -> ServiceConfiguration {
        let host = reader.string("PINGVAS_HOST", default: "0.0.0.0")
        let port = reader.int("PINGVAS_PORT", default: defaultPort)
        let levelText = reader.string("PINGVAS_LOG_LEVEL", default: "info")
        let level = Logger.Level(rawValue: levelText.lowercased())
        if level == nil { reader.reject("PINGVAS_LOG_LEVEL", because: "one of trace, debug, info, notice, warning, error, critical") }
        let databaseURL = needsDatabase ? reader.string("PINGVAS_DATABASE_URL", secret: true) : nil
        let prefix = reader.string("PINGVAS_DB_SCHEMA", default: "pingvas_dev")
        if prefix.range(of: "^[a-z_][a-z0-9_]{0,40}$", options: .regularExpression) == nil {
            reader.reject("PINGVAS_DB_SCHEMA", because: "lower-case letters, digits and _, at most 40")
        }
        let redisURL = needsRedis ? reader.string("PINGVAS_REDIS_URL", secret: true) : nil
        let metricsPort = reader.optionalString("PINGVAS_METRICS_PORT").map { raw -> Int? in
            guard let value = Int(raw), (0...65535).contains(value) else {
                reader.reject("PINGVAS_METRICS_PORT", because: "a port number")
                return nil
            }
            return value
        } ?? nil
        let internalSecret = reader.string("PINGVAS_INTERNAL_SECRET", secret: true)
        if !internalSecret.isEmpty && internalSecret.utf8.count < 32 {
            reader.reject("PINGVAS_INTERNAL_SECRET", because: "at least 32 bytes")
        }
        var sentinels: [RedisSentinelEndpoint] = []
        let sentinelMaster = needsRedis ? reader.optionalString("PINGVAS_REDIS_SENTINEL_MASTER") : nil
        if needsRedis, let list = reader.optionalString("PINGVAS_REDIS_SENTINELS") {
            switch RedisSentinelEndpoint.parseList(list) {
            case .success(let parsed): sentinels = parsed
            case .failure(let error): reader.reject("PINGVAS_REDIS_SENTINELS", because: error.detail)
            }
            if sentinelMaster == nil { reader.reject("PINGVAS_REDIS_SENTINEL_MASTER", because: "required with PINGVAS_REDIS_SENTINELS") }
        }
        var configuration = ServiceConfiguration(
            serviceID: serviceID, host: host, port: port, logLevel: level ?? .info,
            databaseURL: databaseURL, databaseSchema: schemaName(prefix: prefix, serviceID: serviceID),
            databasePoolSize: reader.int("PINGVAS_DB_POOL_SIZE", default: 10),
            redisURL: redisURL, redisPoolSize: reader.int("PINGVAS_REDIS_POOL_SIZE", default: 10),
            readinessTimeout: reader.duration("PINGVAS_READINESS_TIMEOUT", default: .seconds(2)),
            internalSecret: internalSecret
        )
        configuration.metricsPort = metricsPort
        configuration.redisSentinels = sentinels
        configuration.redisSentinelMaster = sentinels.isEmpty ? nil : sentinelMaster
        configuration.otelEndpoint = reader.optionalString("PINGVAS_OTEL_ENDPOINT").flatMap { $0.isEmpty ? nil : $0 }
        if let endpoint = configuration.otelEndpoint, !(endpoint.hasPrefix("http://") || endpoint.hasPrefix("https://")) {
            reader.reject("PINGVAS_OTEL_ENDPOINT", because: "an http(s) URL, e.g. http://jaeger:4318")
        }
        if let ratio = reader.optionalString("PINGVAS_OTEL_SAMPLE_RATIO") {
            if let value = Double(ratio), (0...1).contains(value) {
                configuration.otelSampleRatio = value
            } else {
                reader.reject("PINGVAS_OTEL_SAMPLE_RATIO", because: "a number from 0 to 1")
            }
        }
        return configuration
    }

    /// How the service's Redis clients connect: the URL, or the sentinels and master name.
    package func redisConfiguration(url: String, maxConnections: Int) -> RedisConfiguration {
        RedisConfiguration(url: url, sentinels: redisSentinels, sentinelMaster: redisSentinelMaster, maxConnections: maxConnections)
    }

    /// This process's name among its replicas (consumer names, worker ids): host name and pid.
    package static var instanceName: String {
        "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)"
    }

    /// What this service trusts and how it proves itself to others (`InternalTrust`).
    package var trust: InternalTrust { InternalTrust(secret: internalSecret, serviceID: serviceID) }

    /// The service's logger: labelled with its id, at the configured level.
    package func makeLogger() -> Logger {
        var logger = Logger(label: serviceID)
        logger.logLevel = logLevel
        return logger
    }

    package static func schemaName(prefix: String, serviceID: String) -> String {
        "\(prefix)_\(serviceID.replacingOccurrences(of: "-", with: "_"))"
    }
}
