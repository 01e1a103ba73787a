import Metrics
package import Prometheus
import Synchronization

/// The process's Prometheus registry, behind swift-metrics.
///
/// `bootstrap()` installs it as the swift-metrics backend once per process; every metric then
/// appears on `/metrics`. Names and label names are sanitised to Prometheus' alphabet
/// (`http.server.request.duration` becomes `http_server_request_duration`).
package enum ServiceMetrics {
    package static let registry = PrometheusCollectorRegistry()
    private static let bootstrapped = Mutex(false)

    package static func bootstrap() {
        let first = bootstrapped.withLock { done in
            defer { done = true }
            return !done
        }
        guard first else { return }
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.nameAndLabelSanitizer = { name, labels in
            (sanitize(name), labels.map { (sanitize($0.0), $0.1) })
        }
        factory.defaultDurationHistogramBuckets = [
            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
            .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
        ]
        // Waits and job run times reach minutes: the alert on a 60 s queue wait needs buckets there.
        let long: [Duration] = [
            .milliseconds(100), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30),
            .seconds(60), .seconds(120), .seconds(300), .seconds(900),
        ]
        factory.durationHistogramBuckets = ["pingvas_queue_wait_seconds": long, "pingvas_worker_job_duration_seconds": long]
        MetricsSystem.bootstrap(factory)
    }

    /// The exposition text for `/metrics`.
    package static func exposition() -> [UInt8] {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }

    static func sanitize(_ name: String) -> String {
        var result = ""
        for (index, scalar) in name.unicodeScalars.enumerated() {
            let isDigit = ("0"..."9").contains(scalar)
            let isLetter = ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar)
            let allowed = isLetter || scalar == "_" || (isDigit && index > 0)
            result.unicodeScalars.append(allowed ? scalar : "_")
        }
        return result
    }
}
