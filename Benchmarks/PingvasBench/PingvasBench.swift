import Foundation
import HTTPClient
import Logging
import PingvasCrypto

/// `pingvas-bench`: drives `POST /webhooks/lemonsqueezy` of a running payment-webhook with N
/// concurrent keep-alive connections for D seconds, every request a distinct, correctly signed
/// Lemon Squeezy body, and prints deliveries stored per second, answer-time percentiles and, when
/// given a pgbench baseline, the ratio to it. `make bench` (scripts/bench.sh) runs it.
///
/// The load runs on libcurl's multi interface (one thread drives every connection) and signs with
/// OpenSSL; `--self-check` reports how many bodies per second the generator alone can build and
/// sign, so a reader can see it is not the bottleneck.
@main
struct PingvasBench {
    static func main() async throws {
        let options = try BenchOptions(CommandLine.arguments.dropFirst())
        let bodies = BodyFactory(secret: options.secret, runTag: Int(Date().timeIntervalSince1970))
        let generatorRate = bodies.selfCheck()

        let http = CurlHTTPClient(
            configuration: HTTPClientConfiguration(
                maxConnectionsPerHost: options.connections, maxTotalConnections: options.connections, defaultTimeout: .seconds(10),
                userAgent: "pingvas-bench"
            ),
            logger: Logger(label: "pingvas-bench")
        )
        // Warm-up: open the connections and let the server settle; not counted.
        _ = await LoadRun(http: http, url: options.url, bodies: bodies, workerOffset: 1_000).run(connections: options.connections, for: .seconds(1))
        let cpuBefore = Self.cpuSeconds()
        let result = await LoadRun(http: http, url: options.url, bodies: bodies, workerOffset: 0)
            .run(connections: options.connections, for: .seconds(options.duration))
        let generatorCores = (Self.cpuSeconds() - cpuBefore) / result.elapsed
        await http.shutdown()

        BenchReport(options: options, result: result, generatorRate: generatorRate, generatorCores: generatorCores).print()
        if result.stored == 0 { exit(1) }
    }

    /// User plus system CPU time this process has used, in seconds.
    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }
}
