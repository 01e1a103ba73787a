import Foundation

/// The table `make bench` prints.
struct BenchReport {
    let options: BenchOptions
    let result: LoadRun.Result
    let generatorRate: Double
    /// CPU the load generator used during the measured run, in cores (1.0 = one core busy).
    let generatorCores: Double

    func percentile(_ sorted: [Double], _ p: Double) -> Double {
        guard !sorted.isEmpty else { return .nan }
        return sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)]
    }

    func print() {
        let sorted = result.latencies.sorted()
        let rate = Double(result.stored) / result.elapsed
        func row(_ label: String, _ value: String) { Swift.print(label.padding(toLength: 44, withPad: " ", startingAt: 0) + value) }
        func f(_ value: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", value) }
        Swift.print("")
        Swift.print("webhook intake: signed deliveries stored by payment-webhook (\(options.connections) connections, \(options.duration) s)")
        Swift.print(String(repeating: "-", count: 72))
        row("deliveries stored (200, new)", "\(result.stored)")
        row("other answers (duplicates, errors)", "\(result.duplicates + result.failures)  \(result.statuses.filter { $0.key != 200 })")
        row("stored per second", f(rate))
        row("answer time p50 / p99 / max (ms)", "\(f(percentile(sorted, 0.50), 2)) / \(f(percentile(sorted, 0.99), 2)) / \(f(sorted.last ?? .nan, 2))")
        row("generator alone: bodies signed per second", "\(f(generatorRate, 0)) (one thread)")
        row("generator CPU during the run (cores)", "\(f(generatorCores, 2)) of \(ProcessInfo.processInfo.activeProcessorCount)")
        if let baseline = options.baselineTPS, baseline > 0 {
            row("pgbench single-row insert, tps", f(baseline))
            if let latency = options.baselineLatencyMS { row("pgbench average latency (ms)", f(latency, 3)) }
            row("ratio stored/s : pgbench tps", f(rate / baseline, 3))
        }
        Swift.print(String(repeating: "-", count: 72))
        // One line for scripts/bench.sh's table.
        Swift.print("BENCH stored_per_second=\(f(rate)) p99_ms=\(f(percentile(sorted, 0.99), 2))")
    }
}
