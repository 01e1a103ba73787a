import Foundation
import HTTPClient
import Logging
import PostgresClient
import RedisClient
import TestSupport
import Testing

/// Every accepted job finishes, exactly once, whatever fails around it: the real executables on a
/// private PostgreSQL and Redis, with workers killed, Redis emptied or restarted, PostgreSQL stopped.
@Suite(.serialized, .timeLimit(.minutes(5))) struct PipelineFaultTests {
    static func request(steps: Int = 8) -> [String: Any] {
        ["model": "preview", "prompt": "a lighthouse", "width": 64, "height": 64, "steps": steps, "cfg_scale": 7, "seed": 7]
    }

    func signup(_ api: GatewayClient) async throws -> String {
        let reply = try await api.call("POST", "/api/v1/auth/signup", json: [
            "email": "\(UUID().uuidString.prefix(8))@example.com", "password": "correct horse battery", "display_name": "F",
        ])
        #expect(reply.status == 201, "signup: \(reply.text)")
        return try #require(reply.json["access_token"] as? String)
    }

    func submit(_ api: GatewayClient, _ token: String, steps: Int = 8) async throws -> (id: String, cost: Int) {
        let reply = try await api.call("POST", "/api/v1/generations", token: token, json: Self.request(steps: steps))
        #expect(reply.status == 202, "submit: \(reply.text)")
        return (try #require(reply.json["id"] as? String, "\(reply.text)"), try #require(reply.json["cost"] as? Int))
    }

    func job(_ api: GatewayClient, _ token: String, _ id: String) async throws -> [String: Any] {
        let reply = try await api.call("GET", "/api/v1/generations/\(id)", token: token)
        #expect(reply.status == 200, "job: \(reply.text)")
        return reply.json
    }

    /// Waits until the job's status is one of `statuses`; its last state.
    @discardableResult
    func waitFor(_ api: GatewayClient, _ token: String, _ id: String, _ statuses: Set<String>, timeout: Duration = .seconds(30),
                 fileID: String = #fileID, line: Int = #line) async throws -> [String: Any] {
        try await eventuallyValue(timeout: timeout, pollEvery: .milliseconds(100), "job \(id) reached \(statuses)", fileID: fileID, line: line) {
            let state = try await job(api, token, id)
            return statuses.contains(state["status"] as? String ?? "") ? state : nil
        }
    }

    func balance(_ api: GatewayClient, _ token: String) async throws -> Int {
        let me = try await api.call("GET", "/api/v1/me", token: token)
        return try #require(me.json["credits"] as? Int, "\(me.text)")
    }

    /// Holds still `held` in the user service's ledger (none once every job is settled).
    func openHolds(_ suite: ServiceSuite) async throws -> Int {
        let pool = PostgresPool(configuration: PostgresConfiguration(url: suite.servers.databaseURL, maxConnections: 1), logger: Logger(label: "test"))
        defer { Task { await pool.close() } }
        return try await pool.query("SELECT count(*) AS n FROM pingvas_e2e_user.credit_holds WHERE status = 'held'").first?.decode(Int.self, "n") ?? -1
    }

    @Test func aWorkerKilledMidJobIsReplacedWithinFifteenSecondsAndTheJobSucceedsOnce() async throws {
        try await ServiceSuite.with(extraEnvironment: ["PINGVAS_PREVIEW_STEP_DELAY": "250ms"]) { suite in
            let api = GatewayClient(baseURL: suite.gatewayURL)
            let token = try await signup(api)
            let (id, cost) = try await submit(api, token, steps: 40)  // ~10 s of steps: still running once the replacement is up
            try await waitFor(api, token, id, ["running"])
            // The replacement is up before the kill (as another replica is, or a restarted pod once
            // it is ready): what is measured is the pipeline's reclaim, not how long a process takes
            // to start on a loaded machine (that pushed this to 15.3 s once, in CI's end-to-end phase).
            try await suite.startWorker()
            suite.processes["ai-worker"]!.kill9()
            let killedAt = ContinuousClock.now

            let taken = try await eventuallyValue(timeout: .seconds(20), pollEvery: .milliseconds(100), "attempt 2 started") { () -> Duration? in
                let state = try await job(api, token, id)
                return (state["attempt"] as? Int ?? 0) >= 2 ? ContinuousClock.now - killedAt : nil
            }
            #expect(taken <= .seconds(15), "taken over \(taken) after the kill")
            let done = try await waitFor(api, token, id, ["succeeded", "failed"])
            #expect(done["status"] as? String == "succeeded", "\(done)")
            #expect((done["images"] as? [Any])?.count == 1)
            try await eventually(timeout: .seconds(10), "the hold is captured") { try await openHolds(suite) == 0 }
            #expect(try await balance(api, token) == 100 - cost, "charged once")
            let entries = try await api.call("GET", "/api/v1/me/credits", token: token)
            let captures = (entries.json["entries"] as? [[String: Any]] ?? []).filter { $0["kind"] as? String == "capture" }
            #expect(captures.count == 1, "\(entries.text)")
        }
    }

    @Test func aJobThatKillsEveryWorkerEndsWorkerLostWithCreditsBackAndAnAdminCanRequeueIt() async throws {
        let settings = ["PINGVAS_PREVIEW_STEP_DELAY": "100ms", "PINGVAS_JOB_LEASE": "1s", "PINGVAS_JOB_MAX_DELIVERIES": "3"]
        try await ServiceSuite.with(extraEnvironment: settings) { suite in
            let api = GatewayClient(baseURL: suite.gatewayURL)
            let token = try await signup(api)
            let start = try await balance(api, token)
            let (id, _) = try await submit(api, token, steps: 40)
            var worker = suite.processes["ai-worker"]!
            for delivery in 1...3 {
                try await eventually(timeout: .seconds(30), "delivery \(delivery) started") {
                    let state = try await job(api, token, id)
                    return state["status"] as? String == "running" && (state["attempt"] as? Int ?? 0) >= delivery
                }
                worker.kill9()
                worker = try await suite.startWorker()
            }
            let failed = try await waitFor(api, token, id, ["failed", "succeeded"], timeout: .seconds(30))
            #expect((failed["error"] as? [String: Any])?["code"] as? String == "worker_lost", "\(failed)")
            try await eventually(timeout: .seconds(10), "the hold is released") { try await openHolds(suite) == 0 }
            #expect(try await balance(api, token) == start, "credits back")

            // An admin sees it on the dead list and requeues it: it runs as a new generation.
            let admin = try await makeAdmin(suite, api)
            #expect(try await api.call("GET", "/api/v1/admin/jobs/dead", token: token).status == 403, "not for users")
            let dead = try await api.call("GET", "/api/v1/admin/jobs/dead", token: admin)
            #expect(dead.status == 200, "\(dead.text)")
            #expect((dead.json["items"] as? [[String: Any]])?.map { $0["id"] as? String } == [id], "\(dead.text)")
            let requeued = try await api.call("POST", "/api/v1/admin/jobs/\(id)/requeue", token: admin)
            #expect(requeued.status == 202, "\(requeued.text)")
            let newID = try #require(requeued.json["id"] as? String)
            #expect(newID != id && requeued.json["requeued_from"] as? String == id)
            let again = try await api.call("POST", "/api/v1/admin/jobs/\(id)/requeue", token: admin)
            #expect(again.json["id"] as? String == newID, "requeued once")
            let done = try await waitFor(api, token, newID, ["succeeded", "failed"], timeout: .seconds(30))
            #expect(done["status"] as? String == "succeeded", "\(done)")
            let after = try await api.call("GET", "/api/v1/admin/jobs/dead", token: admin)
            #expect((after.json["items"] as? [Any])?.isEmpty == true, "off the dead list: \(after.text)")
        }
    }

    /// A user made admin in the database (identity and roles are the user service's; #14 adds a way
    /// for operators), signed in again so the token carries the role.
    func makeAdmin(_ suite: ServiceSuite, _ api: GatewayClient) async throws -> String {
        let email = "admin-\(UUID().uuidString.prefix(6))@example.com"
        let signup = try await api.call("POST", "/api/v1/auth/signup", json: ["email": email, "password": "correct horse battery", "display_name": "A"])
        #expect(signup.status == 201, "\(signup.text)")
        let pool = PostgresPool(configuration: PostgresConfiguration(url: suite.servers.databaseURL, maxConnections: 1), logger: Logger(label: "test"))
        _ = try await pool.execute("UPDATE pingvas_e2e_user.users SET roles = ARRAY['user', 'admin'] WHERE email = lower($1)", email)
        await pool.close()
        let login = try await api.call("POST", "/api/v1/auth/login", json: ["email": email, "password": "correct horse battery"])
        return try #require(login.json["access_token"] as? String, "\(login.text)")
    }

    @Test func redisLosingItsDataLosesNoAcceptedJobNorAnyImage() async throws {
        try await ServiceSuite.with(extraEnvironment: ["PINGVAS_LOST_JOB_GRACE": "1s", "PINGVAS_MAX_QUEUED_PER_USER": "20"]) { suite in
            let api = GatewayClient(baseURL: suite.gatewayURL)
            let token = try await signup(api)
            let redis = RedisPool(configuration: RedisConfiguration(url: suite.servers.redisURL, maxConnections: 1), logger: Logger(label: "test"))
            defer { Task { await redis.close() } }
            let worker = suite.processes["ai-worker"]!
            let gallery = suite.processes["gallery"]!

            // Accepted while no worker runs, then Redis is emptied: the jobs are enqueued again.
            worker.pause()
            var accepted: [(id: String, cost: Int)] = []
            for _ in 0..<4 { accepted.append(try await submit(api, token)) }
            try await eventually(timeout: .seconds(10), "the jobs reached Redis") {
                (try await redis.send("KEYS", "pingvas:q:job:*").array?.count ?? 0) == 4
            }
            _ = try await redis.send("FLUSHALL")
            worker.resume()
            for job in accepted {
                let done = try await waitFor(api, token, job.id, ["succeeded", "failed", "canceled"], timeout: .seconds(40))
                #expect(done["status"] as? String == "succeeded", "\(done)")
            }

            // Completion events lost before the gallery read them go out again.
            gallery.pause()
            let late = try await submit(api, token)
            try await waitFor(api, token, late.id, ["succeeded"], timeout: .seconds(30))
            try suite.servers.stack("restart", "redis")  // no persistence: everything in Redis is gone
            gallery.resume()
            try await eventually(timeout: .seconds(40), "the gallery lists every image") {
                let images = try await api.call("GET", "/api/v1/images?limit=100", token: token)
                return (images.json["items"] as? [Any])?.count == accepted.count + 1
            }
            try await eventually(timeout: .seconds(10), "every hold is settled") { try await openHolds(suite) == 0 }
            #expect(try await balance(api, token) == 100 - (accepted + [late]).map(\.cost).reduce(0, +), "each job charged once")
        }
    }

    @Test func aJobPastItsQueueDeadlineExpiresAndOnePastItsRunDeadlineTimesOutBothWithCreditsBack() async throws {
        let settings = ["PINGVAS_QUEUE_DEADLINES": "free=2s", "PINGVAS_RUN_TIMEOUT_FLOOR": "1s", "PINGVAS_PREVIEW_STEP_DELAY": "200ms"]
        try await ServiceSuite.with(extraEnvironment: settings) { suite in
            let api = GatewayClient(baseURL: suite.gatewayURL)
            let token = try await signup(api)
            let worker = suite.processes["ai-worker"]!
            worker.pause()
            let waiting = try await submit(api, token)
            let expired = try await waitFor(api, token, waiting.id, ["failed"], timeout: .seconds(20))
            #expect((expired["error"] as? [String: Any])?["code"] as? String == "expired", "\(expired)")
            worker.resume()

            let slow = try await submit(api, token, steps: 30)  // 6 s of steps against a 1 s run deadline
            let timedOut = try await waitFor(api, token, slow.id, ["failed", "succeeded"], timeout: .seconds(30))
            #expect((timedOut["error"] as? [String: Any])?["code"] as? String == "timeout", "\(timedOut)")
            try await eventually(timeout: .seconds(10), "both holds are released") { try await openHolds(suite) == 0 }
            #expect(try await balance(api, token) == 100)
        }
    }

    @Test func aHoldWhoseJobWasNeverCreatedIsReleased() async throws {
        try await ServiceSuite.with(extraEnvironment: ["PINGVAS_ORPHAN_HOLD_AFTER": "1s"]) { suite in
            let api = GatewayClient(baseURL: suite.gatewayURL)
            let token = try await signup(api)
            let me = try await api.call("GET", "/api/v1/me", token: token)
            let user = try #require(me.json["id"] as? String)
            // generation's hold call went through, then it died before writing the job.
            let user_ = GatewayClient(baseURL: suite.processes["user"]!.baseURL)
            let hold = try await user_.call(
                "POST", "/internal/credits/holds", json: ["user_id": user, "job_id": UUID().uuidString.lowercased(), "amount": 5],
                headers: serviceCredentialHeaders("generation")
            )
            #expect(hold.status == 200, "\(hold.text)")
            #expect(try await balance(api, token) == 95)
            try await eventually(timeout: .seconds(15), "the orphaned hold is released") { try await balance(api, token) == 100 }
            #expect(try await openHolds(suite) == 0)
        }
    }

    @Test func postgresDownMeans503NeverA500AndTheServiceComesBackByItself() async throws {
        try await ServiceSuite.with { suite in
            let api = GatewayClient(baseURL: suite.gatewayURL)
            let token = try await signup(api)
            try suite.servers.stack("stop", "postgres")
            for path in ["/api/v1/generations", "/api/v1/me", "/api/v1/images"] {
                let reply = try await api.call("GET", path, token: token)
                #expect(reply.status == 503, "\(path): \(reply.status) \(reply.text)")
                #expect(reply.json["type"] as? String == "https://pingvas.studio/problems/dependency-unavailable", "\(path): \(reply.text)")
                #expect(reply.headers["Retry-After"] != nil, "\(path)")
            }
            let submit = try await api.call("POST", "/api/v1/generations", token: token, json: Self.request())
            #expect(submit.status == 503, "submit: \(submit.status) \(submit.text)")
            try suite.servers.stack("start", "postgres")
            try await eventually(timeout: .seconds(30), "generation answers again") {
                try await api.call("GET", "/api/v1/generations", token: token).status == 200
            }
            let (id, _) = try await self.submit(api, token)
            try await waitFor(api, token, id, ["succeeded"])
        }
    }
}
