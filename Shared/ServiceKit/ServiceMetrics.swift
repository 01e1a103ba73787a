import Foundation
package import Metrics
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

    /// The exposition text for `/metrics`: the registry, then the process's own numbers.
    package static func exposition() -> [UInt8] {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        buffer += Array(ProcessStatus.exposition().utf8)
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

/// What Linux says of this process (`/proc/self/status`, `/proc/self/stat`), read at each scrape:
/// `process_resident_memory_bytes`, `process_threads`, `process_open_fds` and
/// `process_cpu_seconds_total`. Nothing on other systems.
package enum ProcessStatus {
    /// The number of a `Name:   123 kB` line of a `/proc` text (`/proc/self/status`, `/proc/meminfo`).
    package static func field(_ name: String, in text: String) -> Int64? {
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }) else { return nil }
        return line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first.flatMap { Int64($0) }
    }

    static func exposition() -> String {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return "" }
        func field(_ name: String) -> Int64? { Self.field(name, in: status) }
        var text = ""
        func gauge(_ name: String, _ help: String, _ value: String, type: String = "gauge") {
            text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n\(name) \(value)\n"
        }
        if let resident = field("VmRSS") { gauge("process_resident_memory_bytes", "Resident memory size in bytes.", String(resident * 1024)) }
        if let threads = field("Threads") { gauge("process_threads", "Threads of the process.", String(threads)) }
        if let descriptors = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
            gauge("process_open_fds", "Open file descriptors.", String(descriptors.count))
        }
        if let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
           let close = stat.lastIndex(of: ")") {
            // Fields after the command name: state is 3rd, utime 14th, stime 15th (in clock ticks).
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) {
                let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
                gauge("process_cpu_seconds_total", "User and system CPU time, seconds.", String(format: "%.2f", (user + system) / max(1, ticks)), type: "counter")
            }
        }
        return text
    }
}

package extension Timer {
    /// Records `duration` (swift-metrics takes nanoseconds).
    func recordInterval(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
