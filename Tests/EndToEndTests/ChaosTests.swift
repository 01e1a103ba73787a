import Foundation
import HTTPClient
import Logging
import PostgresClient
import Synchronization
import TestSupport
import Testing

/// `make chaos`, and its short version in `make test`: jobs submitted through the gateway while
/// workers are killed with `kill -9` every few seconds (and replaced), Redis restarts without
/// persistence once and PostgreSQL once. Nothing accepted may be lost, no image stored twice,
/// every credit accounted for. `PINGVAS_CHAOS_JOBS` sets the number of jobs (150 by default).
@Suite(.serialized, .timeLimit(.minutes(20))) struct ChaosTests {
    struct Accepted: Sendable {
        var id: String
        var token: String
        var cost: Int
    }

    @Test func nothingAcceptedIsLostWhileWorkersDieAndRedisAndPostgresRestart() async throws {
        let total = Int(ProcessInfo.processInfo.environment["PINGVAS_CHAOS_JOBS"] ?? "") ?? 150
        let settings = [
            "PINGVAS_PREVIEW_STEP_DELAY": "10ms", "PINGVAS_MAX_QUEUED_PER_USER": "100000", "PINGVAS_LOST_JOB_GRACE": "2s",
            "PINGVAS_SIGNUP_CREDITS": String(total * 2),
        ]
        try await ServiceSuite.with(extraEnvironment: settings) { suite in
            let api = GatewayClient(baseURL: suite.gatewayURL)
            let pool = PostgresPool(configuration: PostgresConfiguration(url: suite.servers.databaseURL, maxConnections: 2), logger: Logger(label: "chaos"))
            defer { Task { await pool.close() } }
            var signups: [String] = []
            for index in 0..<10 {
                let reply = try await api.call("POST", "/api/v1/auth/signup", json: [
                    "email": "chaos-\(index)-\(UUID().uuidString.prefix(6))@example.com", "password": "correct horse battery", "display_name": "C",
                ])
                signups.append(try #require(reply.json["access_token"] as? String, "\(reply.text)"))
            }
            let tokens = signups
            let state = ChaosState()
            // Quiet first: the pipeline's own latency, one 1-step job at a time, on the suite's worker.
            let latency = try await measureLatency(api, tokens[0], count: 40)
            await suite.processes["ai-worker"]!.stop()
            for _ in 0..<3 {
                let id = TestStack.uniqueName("chaos-worker")
                let process = try await suite.startWorker(extraEnvironment: ["PINGVAS_WORKER_ID": id])
                state.workers.withLock { $0.append((id, process)) }
            }
            let started = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                // Submitters: 8 clients, each retrying its request with the same Idempotency-Key
                // through 503s and timeouts, as a real client does.
                for lane in 0..<8 {
                    group.addTask {
                        var index = lane
                        while index < total {
                            let token = tokens[index % tokens.count]
                            if let job = try await submitWithRetries(api, token) { state.accepted.withLock { $0.append(job) } }
                            state.submitted.add(1, ordering: .relaxed)
                            index += 8
                        }
                    }
                }
                // Chaos until every job has been submitted and finished: a worker killed every 2 s and
                // replaced; Redis restarted once a third is submitted, PostgreSQL at two thirds.
                group.addTask {
                    var redisDone = false, postgresDone = false, round = 0
                    while true {
                        if state.submitted.load(ordering: .relaxed) >= total, try await unfinishedJobs(pool) == 0 { break }
                        try await Task.sleep(for: .seconds(2))
                        round += 1
                        // Every third round restarts Redis or PostgreSQL when due; the others kill a worker,
                        // so a takeover is timed on its own, not with a restart's recovery in it.
                        let progress = state.submitted.load(ordering: .relaxed)
                        if round % 3 == 0, !redisDone, progress >= total / 3 {
                            redisDone = true
                            try suite.servers.stack("restart", "redis")
                            continue
                        }
                        if round % 3 == 0, !postgresDone, progress >= 2 * total / 3 {
                            postgresDone = true
                            try suite.servers.stack("stop", "postgres")
                            try await Task.sleep(for: .seconds(2))
                            try suite.servers.stack("start", "postgres")
                            continue
                        }
                        let victim = state.workers.withLock { $0.randomElement()! }
                        let running = try await runningJobs(on: victim.id, pool)
                        victim.process.kill9()
                        let killedAt = ContinuousClock.now
                        let id = TestStack.uniqueName("chaos-worker")
                        let replacement = try await suite.startWorker(extraEnvironment: ["PINGVAS_WORKER_ID": id])
                        state.workers.withLock { list in list.removeAll { $0.id == victim.id }; list.append((id, replacement)) }
                        if !running.isEmpty {
                            try await eventually(timeout: .seconds(60), "jobs of a killed worker taken over") {
                                for job in running where !(try await isTakenOver(job, from: victim.id, pool)) { return false }
                                return true
                            }
                            state.takeovers.withLock { $0.append(ContinuousClock.now - killedAt) }
                        }
                    }
                }
                try await group.waitForAll()
            }
            let jobs = state.accepted.withLock { $0 }
            try await eventually(timeout: .seconds(120 + Int64(total) / 5), pollEvery: .seconds(1), "every accepted job finished") {
                try await unfinishedJobs(pool) == 0
            }
            let report = try await ChaosReport.measure(jobs: jobs, suite: suite, pool: pool, takeovers: state.takeovers.withLock { $0 },
                                                      elapsed: ContinuousClock.now - started)
            print(report.table)
            print(latency)
            #expect(report.accepted == jobs.count && report.accepted > 0)
            #expect(report.lost == 0, "\(report.table)")
            #expect(report.storedTwice == 0, "\(report.table)")
            #expect(report.creditsConserved, "\(report.table)")
            #expect(report.openHolds == 0, "\(report.table)")
            #expect(report.longestTakeover <= .seconds(15), "\(report.table)")
        }
    }

    /// Submits one job; retries the same request (same Idempotency-Key) while the platform answers
    /// 5xx or not at all. Nil when it was refused for good (4xx).
    func submitWithRetries(_ api: GatewayClient, _ token: String) async throws -> Accepted? {
        let key = UUID().uuidString
        let body: [String: Any] = ["model": "preview", "prompt": "chaos", "width": 64, "height": 64, "steps": 8, "cfg_scale": 7]
        for _ in 0..<120 {
            if let reply = try? await api.call("POST", "/api/v1/generations", token: token, json: body, headers: [("Idempotency-Key", key)]) {
                if reply.status == 202, let id = reply.json["id"] as? String, let cost = reply.json["cost"] as? Int {
                    return Accepted(id: id, token: token, cost: cost)
                }
                if (400..<500).contains(reply.status) && reply.status != 429 { return nil }
            }
            try await Task.sleep(for: .milliseconds(500))
        }
        Issue.record("a submission never got an answer through 60 s of retries")
        return nil
    }

    /// Submit → `succeeded` as a client sees it (the event stream), one job at a time, for 1-step
    /// preview jobs whose engine part is one 10 ms step plus a 64x64 render and PNG.
    func measureLatency(_ api: GatewayClient, _ token: String, count: Int) async throws -> String {
        let body: [String: Any] = ["model": "preview", "prompt": "latency", "width": 64, "height": 64, "steps": 1, "cfg_scale": 7]
        var totals: [Double] = []
        for _ in 0..<count {
            let start = ContinuousClock.now
            let reply = try await api.call("POST", "/api/v1/generations", token: token, json: body)
            let id = try #require(reply.json["id"] as? String, "\(reply.text)")
            let events = try await api.events("/api/v1/generations/\(id)/events", token: token, until: ["succeeded", "failed", "canceled"])
            #expect(events.last?.0 == "succeeded")
            totals.append((ContinuousClock.now - start).seconds * 1000)
        }
        totals.sort()
        let p50 = totals[totals.count / 2], p99 = totals[min(totals.count - 1, totals.count * 99 / 100)]
        return String(format: "pipeline latency, one 1-step preview job at a time (%d jobs): submit → succeeded p50 %.1f ms, p99 %.1f ms (engine part about 12 ms)", count, p50, p99)
    }

    /// Jobs not finished yet; -1 while PostgreSQL does not answer.
    func unfinishedJobs(_ pool: PostgresPool) async throws -> Int {
        (try? await pool.query("SELECT count(*) AS n FROM pingvas_e2e_generation.jobs WHERE status IN ('queued', 'running')"))?
            .first.flatMap { try? $0.decode(Int.self, "n") } ?? -1
    }

    func runningJobs(on worker: String, _ pool: PostgresPool) async throws -> [String] {
        (try? await pool.query("SELECT id::text AS id FROM pingvas_e2e_generation.jobs WHERE status = 'running' AND worker_id = $1", worker))?
            .compactMap { try? $0.decode(String.self, "id") } ?? []
    }

    /// The job runs on another worker now, or has finished.
    func isTakenOver(_ job: String, from worker: String, _ pool: PostgresPool) async throws -> Bool {
        guard let row = try? await pool.query(
            "SELECT status, coalesce(worker_id, '') AS worker_id FROM pingvas_e2e_generation.jobs WHERE id = $1::uuid", job
        ).first else { return false }
        let status = try row.decode(String.self, "status")
        let runner = try row.decode(String.self, "worker_id")
        return (status != "running" && status != "queued") || (status == "running" && runner != worker)
    }
}

/// What the submitters and the chaos task share.
final class ChaosState: Sendable {
    let accepted = Mutex<[ChaosTests.Accepted]>([])
    let submitted = Atomic<Int>(0)
    let takeovers = Mutex<[Duration]>([])
    let workers = Mutex<[(id: String, process: ServiceProcess)]>([])
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
