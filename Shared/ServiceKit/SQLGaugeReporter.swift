package import Logging
import Metrics
package import PostgresClient
import ServiceLifecycle

/// A Prometheus gauge read from the service's own database: `sql` returns rows with a `value`
/// column (double precision) and, when `dimension` names a label, a `dimension` column (text) for it.
package struct SQLGauge: Sendable {
    package var label: String
    package var sql: String
    package var dimension: String?

    package init(_ label: String, sql: String, dimension: String? = nil) {
        self.label = label
        self.sql = sql
        self.dimension = dimension
    }
}

/// Records `gauges` every `interval` once the migrations are applied (`ready`): business and backlog
/// numbers (holds outstanding, deliveries by state) that only the database knows.
package struct SQLGaugeReporter: Service {
    let pool: PostgresPool
    let gauges: [SQLGauge]
    let interval: Duration
    let ready: @Sendable () -> Bool
    let logger: Logger

    package init(pool: PostgresPool, gauges: [SQLGauge], interval: Duration = .seconds(15), ready: @escaping @Sendable () -> Bool, logger: Logger) {
        self.pool = pool
        self.gauges = gauges
        self.interval = interval
        self.ready = ready
        self.logger = logger
    }

    package func run() async throws {
        guard await Background.waitUntil(ready) else { return }
        while !Background.shouldStop {
            await report()
            await Background.pause(interval)
        }
    }

    package func report() async {
        for gauge in gauges {
            do {
                for row in try await pool.query(gauge.sql) {
                    let value = try row.decode(Double.self, "value")
                    let dimensions = try gauge.dimension.map { [($0, try row.decode(String.self, "dimension"))] } ?? []
                    Gauge(label: gauge.label, dimensions: dimensions).record(value)
                }
            } catch {
                logger.debug("gauge not read", metadata: ["gauge": "\(gauge.label)", "error": "\(error)"])
            }
        }
    }
}
