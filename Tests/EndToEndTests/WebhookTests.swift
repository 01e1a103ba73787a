import Foundation
#if canImport(Glibc)
import Glibc
#endif
import HTTPClient
import Logging
import TestSupport
import Testing

/// Users' completion webhooks through all seven real executables, received on loopback (allowed by
/// `PINGVAS_USER_WEBHOOK_ALLOWED_HOSTS` for the test) by scripts/webhook_receiver.py, which verifies
/// every signature with the `standardwebhooks` package from PyPI.
@Suite(.serialized, .timeLimit(.minutes(5))) struct WebhookTests {
    static let environment = ["PINGVAS_USER_WEBHOOK_ALLOWED_HOSTS": "127.0.0.1", "PINGVAS_USER_WEBHOOK_RETRY_BASE": "10ms"]
    static var job: [String: Any] { ["model": "preview", "prompt": "a harbour", "width": 64, "height": 64, "steps": 2, "cfg_scale": 7] }

    /// The receiver, until `stop()`; what it got, one entry per request.
    final class Receiver {
        let process: Process
        let log: URL

        init(port: Int, secret: String, failFirst: Int = 0) throws {
            let python = TestStack.repositoryRoot.appendingPathComponent(".run/venv-contract/bin/python").path
            try #require(FileManager.default.isExecutableFile(atPath: python), "the contract tools are missing: run scripts/contract-venv.sh (make check-api does)")
            log = FileManager.default.temporaryDirectory.appendingPathComponent(TestStack.uniqueName("webhooks") + ".jsonl")
            process = Process()
            process.executableURL = URL(fileURLWithPath: python)
            process.arguments = [
                TestStack.repositoryRoot.appendingPathComponent("scripts/webhook_receiver.py").path,
                "--port", String(port), "--secret", secret, "--log", log.path, "--fail-first", String(failFirst),
            ]
            try process.run()
            self.port = port
        }

        let port: Int

        /// Until the receiver accepts connections: a delivery attempted before Python is up is
        /// refused, and would count as one of the failures the test arranges.
        func waitUntilListening() async throws {
            try await eventually(timeout: .seconds(30), pollEvery: .milliseconds(50), "the webhook receiver listens on \(port)") {
                let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
                guard fd >= 0 else { return false }
                defer { close(fd) }
                var address = sockaddr_in()
                address.sin_family = sa_family_t(AF_INET)
                address.sin_port = in_port_t(UInt16(port).bigEndian)
                address.sin_addr.s_addr = inet_addr("127.0.0.1")
                return withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
                }
            }
        }

        var requests: [[String: Any]] {
            guard let text = try? String(contentsOf: log, encoding: .utf8) else { return [] }
            return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        }

        /// SIGKILL without waiting: a child of the test process may have SIGTERM blocked, and
        /// `waitUntilExit()` can miss SIGCHLD under Swift Testing on Linux (see TestSupport's ChildProcess).
        func stop() {
            kill(process.processIdentifier, SIGKILL)
            try? FileManager.default.removeItem(at: log)
        }
    }

    func signup(_ api: GatewayClient) async throws -> String {
        let reply = try await api.call("POST", "/api/v1/auth/signup", json: [
            "email": "hooks-\(UUID().uuidString.prefix(8))@example.com", "password": "correct horse battery", "display_name": "H",
        ])
        return try #require(reply.json["access_token"] as? String, "signup: \(reply.text)")
    }

    func register(_ api: GatewayClient, _ token: String, url: String) async throws -> (id: String, secret: String) {
        let reply = try await api.call("POST", "/api/v1/webhooks", token: token, json: ["url": url])
        #expect(reply.status == 201, "register: \(reply.text)")
        let secret = try #require(reply.json["secret"] as? String, "\(reply.text)")
        #expect(secret.hasPrefix("whsec_"))
        return (try #require(reply.json["id"] as? String), secret)
    }

    func submit(_ api: GatewayClient, _ token: String) async throws -> String {
        let reply = try await api.call("POST", "/api/v1/generations", token: token, json: Self.job)
        return try #require(reply.json["id"] as? String, "submit: \(reply.text)")
    }

    /// The endpoint's delivery of `job`, as the owner sees it.
    func delivery(_ api: GatewayClient, _ token: String, endpoint: String, job: String) async throws -> [String: Any]? {
        let reply = try await api.call("GET", "/api/v1/webhooks/\(endpoint)", token: token)
        return (reply.json["deliveries"] as? [[String: Any]])?.first { $0["generation_id"] as? String == job }
    }

    @Test func aSignedDeliveryIsRetriedUntilAcknowledgedAndAcceptedOnce() async throws {
        try await ServiceSuite.with(extraEnvironment: Self.environment) { suite in
            let api = GatewayClient(baseURL: suite.gatewayURL)
            let token = try await signup(api)
            let port = try TestStack.freePort()
            let endpoint = try await register(api, token, url: "http://127.0.0.1:\(port)/hooks")
            let receiver = try Receiver(port: port, secret: endpoint.secret, failFirst: 5)
            defer { receiver.stop() }
            try await receiver.waitUntilListening()
            let job = try await submit(api, token)

            var seen: [String: Any] = [:]
            try await eventually(timeout: .seconds(60), pollEvery: .milliseconds(200), "the delivery is acknowledged; last seen \(seen)\n\(suite.logs)") {
                seen = try await delivery(api, token, endpoint: endpoint.id, job: job) ?? [:]
                return seen["status"] as? String == "delivered"
            }
            #expect(seen["attempts"] as? Int == 6, "5 failures, then the acknowledged attempt: \(seen)")
            #expect(seen["last_status_code"] as? Int == 204)
            #expect(seen["event"] as? String == "generation.succeeded")

            let requests = receiver.requests
            #expect(requests.allSatisfy { $0["verified"] as? Bool == true }, "every attempt verifies with standardwebhooks: \(requests)")
            let accepted = requests.filter { $0["status"] as? Int == 204 }
            #expect(accepted.count == 1, "exactly one accepted delivery: \(requests)")
            #expect(Set(requests.compactMap { $0["id"] as? String }).count == 1, "every attempt has the same webhook-id")
            let payload = try #require(accepted.first?["payload"] as? [String: Any])
            #expect(payload["type"] as? String == "generation.succeeded")
            let data = try #require(payload["data"] as? [String: Any])
            #expect(data["id"] as? String == job)
            #expect(data["status"] as? String == "succeeded")
            #expect((data["images"] as? [Any])?.count == 1)

            // generation counts the attempts by outcome.
            let http = CurlHTTPClient(logger: Logger(label: "test"))
            defer { Task { await http.shutdown() } }
            let metrics = try await http.execute(HTTPClientRequest(url: try #require(suite.processes["generation"]).baseURL + "/metrics", timeout: .seconds(5)))
            let text = String(decoding: metrics.body, as: UTF8.self)
            #expect(text.contains(#"pingvas_user_webhook_attempts_total{outcome="retry"} 5"#), "\(text)")
            #expect(text.contains(#"pingvas_user_webhook_attempts_total{outcome="delivered"} 1"#), "\(text)")
            #expect(text.contains(#"pingvas_user_webhook_attempt_seconds_count{outcome="delivered"} 1"#), "\(text)")
        }
    }

    @Test func aReceiverThatIsDownGetsTheEventOnceItIsBack() async throws {
        try await ServiceSuite.with(extraEnvironment: Self.environment) { suite in
            let api = GatewayClient(baseURL: suite.gatewayURL)
            let token = try await signup(api)
            let port = try TestStack.freePort()
            let endpoint = try await register(api, token, url: "http://127.0.0.1:\(port)/hooks")
            let job = try await submit(api, token)
            // Nothing listens yet: attempts fail (connection refused) and are retried.
            var seen: [String: Any] = [:]
            try await eventually(timeout: .seconds(30), pollEvery: .milliseconds(100), "attempts fail while the receiver is down: \(seen)") {
                seen = try await delivery(api, token, endpoint: endpoint.id, job: job) ?? [:]
                return (seen["attempts"] as? Int ?? 0) >= 3
            }
            #expect(seen["status"] as? String == "pending")
            #expect(seen["last_error"] is String)

            let receiver = try Receiver(port: port, secret: endpoint.secret)
            defer { receiver.stop() }
            try await eventually(timeout: .seconds(60), pollEvery: .milliseconds(200), "the event arrives once the receiver is up: \(seen)\n\(suite.logs)") {
                seen = try await delivery(api, token, endpoint: endpoint.id, job: job) ?? [:]
                return seen["status"] as? String == "delivered"
            }
            let accepted = receiver.requests.filter { $0["status"] as? Int == 204 && $0["verified"] as? Bool == true }
            #expect(accepted.count == 1, "\(receiver.requests)")
            #expect((accepted.first?["payload"] as? [String: Any]).flatMap { $0["data"] as? [String: Any] }?["id"] as? String == job)
        }
    }

    @Test func endpointsAreManagedByTheirOwnerAndInternalTargetsRefused() async throws {
        try await ServiceSuite.with(extraEnvironment: Self.environment) { suite in
            let api = GatewayClient(baseURL: suite.gatewayURL)
            let token = try await signup(api)
            let other = try await signup(api)
            for url in ["http://10.1.2.3/hook", "http://169.254.169.254/latest/meta-data", "http://localhost:9/hook", "http://[::1]:9/hook",
                        "http://192.168.0.10/hook", "ftp://example.com/hook", "not a url"] {
                let refused = try await api.call("POST", "/api/v1/webhooks", token: token, json: ["url": url])
                #expect(refused.status == 422 && refused.problemType == "validation-failed", "\(url): \(refused.text)")
            }
            let bad = try await api.call("POST", "/api/v1/webhooks", token: token, json: ["url": "http://127.0.0.1:9/x", "events": ["job.done"]])
            #expect(bad.status == 422, "\(bad.text)")

            let endpoint = try await register(api, token, url: "http://127.0.0.1:9/hooks")
            let listed = try await api.call("GET", "/api/v1/webhooks", token: token)
            let items = try #require(listed.json["items"] as? [[String: Any]])
            #expect(items.count == 1 && items.first?["secret"] == nil, "the secret is never listed: \(listed.text)")
            #expect(try await api.call("GET", "/api/v1/webhooks/\(endpoint.id)", token: other).status == 404, "someone else's is a 404")
            #expect(try await api.call("DELETE", "/api/v1/webhooks/\(endpoint.id)", token: other).status == 404)

            let rotated = try await api.call("POST", "/api/v1/webhooks/\(endpoint.id)/rotate-secret", token: token)
            #expect(rotated.status == 200)
            let secret = try #require(rotated.json["secret"] as? String)
            #expect(secret.hasPrefix("whsec_") && secret != endpoint.secret)

            #expect(try await api.call("DELETE", "/api/v1/webhooks/\(endpoint.id)", token: token).status == 204)
            #expect(try await api.call("GET", "/api/v1/webhooks/\(endpoint.id)", token: token).status == 404)
        }
    }

    @Test func aJobsOwnWebhookFiresForThatJobOnly() async throws {
        try await ServiceSuite.with(extraEnvironment: Self.environment) { suite in
            let api = GatewayClient(baseURL: suite.gatewayURL)
            let token = try await signup(api)
            let secretReply = try await api.call("GET", "/api/v1/webhooks/default/secret", token: token)
            let secret = try #require(secretReply.json["secret"] as? String, "\(secretReply.text)")
            #expect(try await api.call("GET", "/api/v1/webhooks/default/secret", token: token).json["secret"] as? String == secret, "the same every time")
            let port = try TestStack.freePort()
            let receiver = try Receiver(port: port, secret: secret)
            defer { receiver.stop() }

            let ownHook: [String: Any] = ["webhook": "http://127.0.0.1:\(port)/job", "webhook_events": ["generation.succeeded"]]
            func submitHooked(seed: Int) async throws -> String {
                let reply = try await api.call("POST", "/api/v1/generations", token: token, json: Self.job.merging(ownHook) { _, new in new }.merging(["seed": seed]) { _, new in new })
                #expect(reply.status == 202, "\(reply.text)")
                return try #require(reply.json["id"] as? String)
            }
            let first = try await submitHooked(seed: 21)
            let other = try await submit(api, token)  // no webhook of its own
            try await eventually(timeout: .seconds(30), pollEvery: .milliseconds(200), "the job without a webhook finishes") {
                try await api.call("GET", "/api/v1/generations/\(other)", token: token).json["status"] as? String == "succeeded"
            }
            // Submitted after `other` finished: by the time its delivery arrives, one for `other` would have been sent too.
            let second = try await submitHooked(seed: 22)
            let refused = try await api.call("POST", "/api/v1/generations", token: token, json: Self.job.merging(["webhook": "http://169.254.169.254/x"]) { _, new in new })
            #expect(refused.status == 422 && refused.problemType == "validation-failed", "metadata address refused: \(refused.text)")

            try await eventually(timeout: .seconds(60), pollEvery: .milliseconds(200), "both jobs' own webhooks are delivered\n\(suite.logs)") {
                receiver.requests.filter { $0["status"] as? Int == 204 }.count >= 2
            }
            let requests = receiver.requests
            #expect(requests.allSatisfy { $0["verified"] as? Bool == true }, "signed with the per-job secret: \(requests)")
            let jobs = requests.compactMap { ($0["payload"] as? [String: Any]).flatMap { $0["data"] as? [String: Any] }?["id"] as? String }
            #expect(Set(jobs) == [first, second] && jobs.count == 2, "only the jobs that asked, once each: \(requests)")
            #expect((try await api.call("GET", "/api/v1/webhooks", token: token).json["items"] as? [Any])?.isEmpty == true, "a job's webhook is no listed endpoint")
        }
    }
}
