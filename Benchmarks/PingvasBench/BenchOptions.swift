import Foundation

/// Command line: `--url U --secret S [--connections N] [--duration D] [--baseline-tps X]`.
struct BenchOptions: Sendable {
    var url = "http://127.0.0.1:8083/webhooks/lemonsqueezy"
    var secret = ""
    var connections = 16
    var duration = 10
    /// pgbench's single-row insert rate on the same PostgreSQL with the same clients and duration.
    var baselineTPS: Double?
    var baselineLatencyMS: Double?

    init(_ arguments: ArraySlice<String>) throws {
        var iterator = arguments.makeIterator()
        while let flag = iterator.next() {
            guard let value = iterator.next() else { throw BenchError.usage("\(flag) needs a value") }
            switch flag {
            case "--url": url = value
            case "--secret": secret = value
            case "--connections": connections = try Self.positive(flag, value)
            case "--duration": duration = try Self.positive(flag, value)
            case "--baseline-tps": baselineTPS = Double(value)
            case "--baseline-latency-ms": baselineLatencyMS = Double(value)
            default: throw BenchError.usage("unknown option \(flag)")
            }
        }
        if secret.isEmpty { throw BenchError.usage("--secret is required (the service's PINGVAS_LEMONSQUEEZY_SIGNING_SECRET)") }
    }

    static func positive(_ flag: String, _ value: String) throws -> Int {
        guard let number = Int(value), number > 0 else { throw BenchError.usage("\(flag) must be a positive integer") }
        return number
    }
}

enum BenchError: Error, CustomStringConvertible {
    case usage(String)
    var description: String {
        switch self {
        case .usage(let text): "pingvas-bench: \(text)\nusage: pingvas-bench --url URL --secret S [--connections N] [--duration SECONDS] [--baseline-tps X]"
        }
    }
}
