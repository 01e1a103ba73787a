import Foundation
import HTTPClient
import Logging
import PingvasCrypto
import PostgresClient
import Synchronization
import TestSupport
import Testing

/// Every operation of docs/openapi.json against all seven real executables: the successes and the
/// errors a client meets, each real answer (status, content type, body) and each event of a job's
/// stream checked against the document by scripts/contract_check.py (jsonschema from PyPI).
@Suite(.serialized, .timeLimit(.minutes(5))) struct ContractTests {
    /// What was said, for the checker: one entry per response or event.
    final class Transcript: Sendable {
        /// A response (`method` ... `body`; no body for bytes that are not text) or an event (`event`, `data`).
        struct Entry: Encodable, Sendable {
            var method: String?
            var path: String?
            var status: Int?
            var contentType: String?
            var body: String?
            var event: String?
            var data: String?

            enum CodingKeys: String, CodingKey {
                case method, path, status, body, event, data
                case contentType = "content_type"
            }
        }

        private let entries = Mutex<[Entry]>([])

        func record(_ method: String, _ path: String, _ reply: GatewayClient.Reply) {
            let contentType = reply.headers["Content-Type"] ?? ""
            let body = contentType.hasPrefix("image/") ? nil : reply.text
            entries.withLock { $0.append(Entry(method: method, path: path, status: reply.status, contentType: contentType, body: body)) }
        }

        func record(stream path: String, events: [(String, String)]) {
            entries.withLock {
                $0.append(Entry(method: "GET", path: path, status: 200, contentType: "text/event-stream"))
                for (name, data) in events { $0.append(Entry(event: name, data: data)) }
            }
        }

        var json: Data { get throws { try JSONEncoder().encode(entries.withLock { $0 }) } }
    }

    /// A client that records every exchange.
    struct Recording {
        let api: GatewayClient
        let transcript: Transcript

        @discardableResult
        func call(
            _ method: String, _ path: String, token: String? = nil, json: [String: Any]? = nil, raw: String? = nil,
            headers: [(String, String)] = [], expect status: Int
        ) async throws -> GatewayClient.Reply {
            let reply = try await api.call(method, path, token: token, json: json, raw: raw, headers: headers)
            transcript.record(method, path, reply)
            #expect(reply.status == status, "\(method) \(path): \(reply.status) \(reply.text.prefix(300))")
            return reply
        }
    }

    static let password = "correct horse battery"
    static var job: [String: Any] { ["model": "preview", "prompt": "a lighthouse at dusk", "width": 64, "height": 64, "steps": 3, "cfg_scale": 7, "seed": 7] }

    @Test func everyDocumentedOperationAnswersAsDocumented() async throws {
        let python = TestStack.repositoryRoot.appendingPathComponent(".run/venv-contract/bin/python").path
        try #require(FileManager.default.isExecutableFile(atPath: python), "the contract tools are missing: run scripts/contract-venv.sh (make check-api does)")
        try await ServiceSuite.with(extraEnvironment: PaymentsEndToEndTests.environment.merging(["PINGVAS_SIGNUP_CREDITS": "100", "PINGVAS_USER_WEBHOOK_ALLOWED_HOSTS": "127.0.0.1"]) { _, new in new }) { suite in
            let transcript = Transcript()
            let api = Recording(api: GatewayClient(baseURL: suite.gatewayURL), transcript: transcript)
            try await walk(api, suite: suite)
            let file = FileManager.default.temporaryDirectory.appendingPathComponent(TestStack.uniqueName("contract") + ".json")
            try transcript.json.write(to: file)
            defer { try? FileManager.default.removeItem(at: file) }
            let (status, output) = try Self.run([python, TestStack.repositoryRoot.appendingPathComponent("scripts/contract_check.py").path, file.path])
            #expect(status == 0, "responses that break docs/openapi.json:\n\(output)")
        }
    }

    func walk(_ api: Recording, suite: ServiceSuite) async throws {
        // The document and its page.
        try await api.call("GET", "/api/v1/openapi.json", expect: 200)
        try await api.call("GET", "/api/v1/docs", expect: 200)

        // Accounts and tokens.
        let email = "contract-\(UUID().uuidString.prefix(8))@example.com"
        let signup = try await api.call("POST", "/api/v1/auth/signup", json: ["email": email, "password": Self.password, "display_name": "C"], expect: 201)
        let token = try #require(signup.json["access_token"] as? String)
        let refreshToken = try #require(signup.json["refresh_token"] as? String)
        try await api.call("POST", "/api/v1/auth/signup", json: ["email": email, "password": Self.password, "display_name": "C"], expect: 409)
        try await api.call("POST", "/api/v1/auth/signup", json: ["email": "no-at-sign", "password": "short"], expect: 422)
        try await api.call("POST", "/api/v1/auth/signup", raw: "{not json", expect: 400)
        try await api.call("POST", "/api/v1/auth/login", json: ["email": email, "password": Self.password], expect: 200)
        try await api.call("POST", "/api/v1/auth/login", json: ["email": email, "password": "wrong password"], expect: 401)
        try await api.call("POST", "/api/v1/auth/login", json: [:], expect: 422)
        // PostgreSQL cannot store NUL: refused as bad input, never a 500 (found by schemathesis).
        try await api.call("POST", "/api/v1/auth/login", json: ["email": "a\u{0}@example.com", "password": Self.password], expect: 422)
        let refreshed = try await api.call("POST", "/api/v1/auth/refresh", json: ["refresh_token": refreshToken], expect: 200)
        try await api.call("POST", "/api/v1/auth/refresh", json: ["refresh_token": refreshToken], expect: 401)
        try await api.call("POST", "/api/v1/auth/refresh", json: [:], expect: 422)
        try await api.call("POST", "/api/v1/auth/logout", json: ["refresh_token": refreshed.json["refresh_token"] as? String ?? ""], expect: 204)
        try await api.call("POST", "/api/v1/auth/logout", json: ["refresh_token": 5], expect: 400)

        // The user.
        try await api.call("GET", "/api/v1/me", token: token, expect: 200)
        try await api.call("GET", "/api/v1/me", expect: 401)
        try await api.call("GET", "/api/v1/me", token: "not-a-token", expect: 401)
        try await api.call("GET", "/api/v1/me/credits?limit=1", token: token, expect: 200)
        try await api.call("GET", "/api/v1/me/credits?limit=0", token: token, expect: 422)
        try await api.call("GET", "/api/v1/models", expect: 200)
        try await api.call("GET", "/api/v1/models", token: token, expect: 200)
        let styles = try await api.call("GET", "/api/v1/styles", expect: 200)
        #expect((styles.json["items"] as? [Any])?.isEmpty == false, "config/styles.json beside the catalog is served")

        // A job, its stream, its image.
        let created = try await api.call(
            "POST", "/api/v1/generations", token: token, json: Self.job, headers: [("Idempotency-Key", UUID().uuidString)], expect: 202)
        #expect(created.headers["Location"]?.hasPrefix("/api/v1/generations/") == true, "Location: \(created.headers)")
        let jobID = try #require(created.json["id"] as? String)
        let eventsPath = "/api/v1/generations/\(jobID)/events"
        let events = try await api.api.events(eventsPath, token: token, until: ["succeeded", "failed", "canceled"])
        api.transcript.record(stream: eventsPath, events: events)
        #expect(events.last?.0 == "succeeded", "\(events.map(\.0))\n\(suite.logs)")
        let key = UUID().uuidString
        try await api.call("POST", "/api/v1/generations", token: token, json: Self.job, headers: [("Idempotency-Key", key)], expect: 202)
        try await api.call("POST", "/api/v1/generations", token: token, json: Self.job.merging(["seed": 8]) { _, new in new }, headers: [("Idempotency-Key", key)], expect: 422)
        try await api.call("POST", "/api/v1/generations", token: token, json: Self.job, headers: [("Idempotency-Key", "")], expect: 400)
        try await api.call("POST", "/api/v1/generations", token: token, json: Self.job.merging(["model": "no-such-model"]) { _, new in new }, expect: 422)
        try await api.call("POST", "/api/v1/generations", token: token, json: Self.job.merging(["width": 100_000]) { _, new in new }, expect: 422)
        // A generating model without prompt, size, steps and cfg scale: 422 naming them (an upscaler needs none).
        try await api.call("POST", "/api/v1/generations", token: token, json: ["model": "preview"], expect: 422)
        try await api.call("POST", "/api/v1/generations", token: token, json: ["prompt": "no model"], expect: 400)
        try await api.call("POST", "/api/v1/generations", token: token, json: ["model": "realesrgan-x2", "init_image_id": UUID().uuidString.lowercased()], expect: 422)
        try await api.call("POST", "/api/v1/generations", json: Self.job, expect: 401)
        try await api.call("GET", "/api/v1/generations?limit=2", token: token, expect: 200)
        try await api.call("GET", "/api/v1/generations?limit=0", token: token, expect: 400)
        try await api.call("GET", "/api/v1/generations?cursor=nonsense", token: token, expect: 400)
        try await api.call("GET", "/api/v1/generations/\(jobID)", token: token, expect: 200)
        try await api.call("GET", "/api/v1/generations/\(UUID())", token: token, expect: 404)
        try await api.call("GET", "/api/v1/generations/\(UUID())/events", token: token, expect: 404)
        try await api.call("POST", "/api/v1/generations/\(jobID)/cancel", token: token, expect: 409)
        try await api.call("POST", "/api/v1/generations/\(UUID())/cancel", token: token, expect: 404)
        // Canceled while queued: 200, and the stream of a canceled job ends with `canceled`.
        let worker = suite.processes["ai-worker"]!
        worker.pause()
        let queued = try await api.call("POST", "/api/v1/generations", token: token, json: Self.job.merging(["seed": 9]) { _, new in new }, expect: 202)
        let queuedID = try #require(queued.json["id"] as? String)
        try await api.call("GET", "/api/v1/generations/\(queuedID)", token: token, expect: 200)
        try await api.call("POST", "/api/v1/generations/\(queuedID)/cancel", token: token, expect: 200)
        worker.resume()
        let canceledPath = "/api/v1/generations/\(queuedID)/events"
        api.transcript.record(stream: canceledPath, events: try await api.api.events(canceledPath, token: token, until: ["canceled"]))

        var imageID = ""
        try await eventually(timeout: .seconds(20), "the image reaches the gallery") {
            let page = try await api.api.call("GET", "/api/v1/images", token: token)
            imageID = ((page.json["items"] as? [[String: Any]])?.first?["id"] as? String) ?? ""
            return !imageID.isEmpty
        }
        try await api.call("GET", "/api/v1/images?limit=5&q=lighthouse", token: token, expect: 200)
        try await api.call("GET", "/api/v1/images?limit=1000", token: token, expect: 422)
        try await api.call("GET", "/api/v1/images?cursor=%25%25", token: token, expect: 400)
        try await api.call("GET", "/api/v1/images", expect: 401)
        try await api.call("GET", "/api/v1/images/\(imageID)", token: token, expect: 200)
        try await api.call("GET", "/api/v1/images/\(imageID)", expect: 404)
        try await api.call("GET", "/api/v1/images/\(imageID)/content", token: token, expect: 200)
        try await api.call("GET", "/api/v1/images/\(UUID())/content", token: token, expect: 404)
        try await api.call("PATCH", "/api/v1/images/\(imageID)", token: token, json: ["visibility": "public", "title": "Lighthouse", "tags": ["sea"]], expect: 200)
        try await api.call("PATCH", "/api/v1/images/\(imageID)", token: token, json: ["tags": [""]], expect: 422)
        try await api.call("PATCH", "/api/v1/images/\(imageID)", token: token, json: ["tags": ["a\u{0}"]], expect: 422)
        try await api.call("PATCH", "/api/v1/images/\(UUID())", token: token, json: ["title": "a\u{0}"], expect: 422)
        try await api.call("GET", "/api/v1/images?q=lighthouse%00", token: token, expect: 422)
        try await api.call("POST", "/api/v1/generations", token: token, json: Self.job.merging(["prompt": "a\u{0}b"]) { _, new in new }, expect: 422)
        try await api.call("PATCH", "/api/v1/images/\(imageID)", token: token, json: ["visibility": "everyone"], expect: 400)
        try await api.call("GET", "/api/v1/images/\(imageID)", expect: 200)
        try await api.call("GET", "/api/v1/explore?limit=1", expect: 200)
        try await api.call("GET", "/api/v1/explore?cursor=nonsense", expect: 400)
        try await walkETags(api, token: token, paths: ["/api/v1/generations/\(jobID)", "/api/v1/images/\(imageID)"])
        let remixJob = try await walkImageExtras(api, token: token, imageID: imageID)
        try await api.call("DELETE", "/api/v1/images/\(imageID)", token: token, expect: 204)
        try await api.call("DELETE", "/api/v1/images/\(imageID)", token: token, expect: 404)

        // Billing (checkout is not configured here: 503 for a variant on sale).
        try await api.call("GET", "/api/v1/billing/subscription", token: token, expect: 200)
        try await api.call("POST", "/api/v1/billing/checkout", token: token, json: ["variant": "101"], expect: 503)
        try await api.call("POST", "/api/v1/billing/checkout", token: token, json: ["variant": "999"], expect: 422)
        let body = LemonSqueezyBodies.order("order_created", id: 7001, user: (signup.json["user"] as? [String: Any])?["id"] as? String ?? "", status: "paid")
        let signature = HMACSHA256.hex(key: Array(PaymentsEndToEndTests.secret.utf8), message: Array(body.utf8))
        try await api.call("POST", "/webhooks/lemonsqueezy", raw: body, headers: [("X-Signature", signature), ("X-Event-Name", "order_created")], expect: 200)
        try await api.call("POST", "/webhooks/lemonsqueezy", raw: body, headers: [("X-Signature", String(repeating: "0", count: 64))], expect: 401)

        // Completion webhooks (nothing listens on port 9: deliveries just fail and wait).
        let hook = try await api.call("POST", "/api/v1/webhooks", token: token, json: ["url": "http://127.0.0.1:9/hooks", "events": ["generation.succeeded"]], expect: 201)
        let hookID = try #require(hook.json["id"] as? String, "\(hook.text)")
        try await api.call("POST", "/api/v1/webhooks", token: token, json: ["url": "http://10.0.0.1/hooks"], expect: 422)
        try await api.call("POST", "/api/v1/webhooks", token: token, json: ["url": 5], expect: 400)
        try await api.call("GET", "/api/v1/webhooks", token: token, expect: 200)
        try await api.call("GET", "/api/v1/webhooks/\(hookID)", token: token, expect: 200)
        try await api.call("GET", "/api/v1/webhooks/\(UUID())", token: token, expect: 404)
        try await api.call("POST", "/api/v1/webhooks/\(hookID)/rotate-secret", token: token, expect: 200)
        try await api.call("POST", "/api/v1/webhooks/\(UUID())/rotate-secret", token: token, expect: 404)
        try await walkWebhookExtras(api, token: token, hookID: hookID)
        try await api.call("POST", "/api/v1/generations", token: token, json: Self.job.merging(["seed": 10]) { _, new in new }, expect: 202)
        try await eventually(timeout: .seconds(20), "a delivery is owed to the webhook") {
            let shown = try await api.api.call("GET", "/api/v1/webhooks/\(hookID)", token: token)
            return ((shown.json["deliveries"] as? [[String: Any]])?.first?["attempts"] as? Int ?? 0) >= 1
        }
        try await api.call("GET", "/api/v1/webhooks/\(hookID)", token: token, expect: 200)
        try await api.call("DELETE", "/api/v1/webhooks/\(hookID)", token: token, expect: 204)
        try await api.call("DELETE", "/api/v1/webhooks/\(hookID)", token: token, expect: 404)

        // Operator routes.
        try await api.call("GET", "/api/v1/billing/admin/deliveries", token: token, expect: 403)
        try await api.call("GET", "/api/v1/admin/jobs/dead", token: token, expect: 403)
        let admin = try await makeAdmin(suite, api.api)
        try await api.call("GET", "/api/v1/billing/admin/deliveries?limit=5", token: admin, expect: 200)
        try await api.call("GET", "/api/v1/billing/admin/deliveries?status=nonsense", token: admin, expect: 400)
        try await api.call("POST", "/api/v1/billing/admin/deliveries/\(UUID())/replay", token: admin, expect: 404)
        try await api.call("GET", "/api/v1/admin/jobs/dead", token: admin, expect: 200)
        try await api.call("POST", "/api/v1/admin/jobs/\(UUID())/requeue", token: admin, expect: 404)
        try await api.call("POST", "/api/v1/admin/jobs/\(jobID)/requeue", token: admin, expect: 409)

        let userID = try #require((signup.json["user"] as? [String: Any])?["id"] as? String)
        try await walkAdmin(api, admin: admin, token: token, userID: userID, remixJob: remixJob)
        let password = try await walkAccount(api, token: token, email: email)
        try await walkDeletion(api, token: token, admin: admin, userID: userID, email: email, password: password)
    }

    /// A user made admin in the database, signed in again so the token carries the role.
    func makeAdmin(_ suite: ServiceSuite, _ api: GatewayClient) async throws -> String {
        let email = "admin-\(UUID().uuidString.prefix(6))@example.com"
        let signup = try await api.call("POST", "/api/v1/auth/signup", json: ["email": email, "password": Self.password, "display_name": "A"])
        #expect(signup.status == 201, "\(signup.text)")
        let pool = PostgresPool(configuration: PostgresConfiguration(url: suite.servers.databaseURL, maxConnections: 1), logger: Logger(label: "test"))
        _ = try await pool.execute("UPDATE pingvas_e2e_user.users SET roles = ARRAY['user', 'admin'] WHERE email = lower($1)", email)
        await pool.close()
        let login = try await api.call("POST", "/api/v1/auth/login", json: ["email": email, "password": Self.password])
        return try #require(login.json["access_token"] as? String, "\(login.text)")
    }

    /// Runs a helper to its end; its status and everything it printed.
    static func run(_ arguments: [String]) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
