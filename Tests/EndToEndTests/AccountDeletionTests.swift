import Foundation
import HTTPClient
import Logging
import PostgresClient
import TestSupport
import Testing

/// Deleting an account through the gateway with the real executables: every way in stops at once,
/// the images and their files go, and the credit ledger stays with its sums under an anonymous row.
@Suite(.serialized, .timeLimit(.minutes(3))) struct AccountDeletionTests {
    static let password = "correct horse battery"

    @Test func aDeletedAccountIsLockedAnonymisedAndItsImagesGoButTheLedgerStays() async throws {
        try await ServiceSuite.with(extraEnvironment: ["PINGVAS_USER_WEBHOOK_ALLOWED_HOSTS": "127.0.0.1"]) { suite in
            let api = GatewayClient(baseURL: suite.gatewayURL)
            let email = "leaver-\(UUID().uuidString.prefix(8).lowercased())@example.com"
            let signup = try await api.call("POST", "/api/v1/auth/signup", json: ["email": email, "password": Self.password, "display_name": "Leaver"])
            let token = try #require(signup.json["access_token"] as? String, "\(signup.text)")
            let refresh = try #require(signup.json["refresh_token"] as? String)
            let userID = try #require((signup.json["user"] as? [String: Any])?["id"] as? String)
            let key = try #require(try await api.call("POST", "/api/v1/api-keys", token: token, json: ["name": "k", "scopes": ["read"]]).json["key"] as? String)
            let hook = try await api.call("POST", "/api/v1/webhooks", token: token, json: ["url": "http://127.0.0.1:9/hooks"])
            #expect(hook.status == 201, "\(hook.text)")

            let job = try await api.call("POST", "/api/v1/generations", token: token, json: [
                "model": "preview", "prompt": "a last lighthouse", "width": 64, "height": 64, "steps": 2, "cfg_scale": 7,
            ])
            let jobID = try #require(job.json["id"] as? String, "\(job.text)")
            var imageID = ""
            try await eventually(timeout: .seconds(30), pollEvery: .milliseconds(200), "the job's image reaches the gallery\n\(suite.logs)") {
                let shown = try await api.call("GET", "/api/v1/generations/\(jobID)", token: token)
                imageID = ((shown.json["images"] as? [[String: Any]])?.first?["id"] as? String) ?? ""
                guard !imageID.isEmpty else { return false }
                return try await api.call("GET", "/api/v1/images/\(imageID)", token: token).status == 200
            }
            #expect(try await api.call("PATCH", "/api/v1/images/\(imageID)", token: token, json: ["visibility": "public"]).status == 200)
            let before = try await api.call("GET", "/api/v1/me/credits", token: token)
            let balance = try #require(before.json["balance"] as? Int)

            let wrong = try await api.call("DELETE", "/api/v1/me", token: token, json: ["password": "not my password"])
            #expect(wrong.status == 403 && wrong.problemType == "invalid-credentials", "\(wrong.text)")
            #expect(try await api.call("DELETE", "/api/v1/me", token: key, json: ["password": Self.password]).status == 403, "an API key cannot delete the account")
            let deleted = try await api.call("DELETE", "/api/v1/me", token: token, json: ["password": Self.password])
            #expect(deleted.status == 204, "\(deleted.text)")

            // Every way in stops at once.
            let me = try await api.call("GET", "/api/v1/me", token: token)
            #expect(me.status == 403 && me.problemType == "account-suspended", "\(me.text)")
            #expect([401, 403].contains(try await api.call("GET", "/api/v1/me", token: key).status), "the API key is refused")
            #expect(try await api.call("POST", "/api/v1/auth/refresh", json: ["refresh_token": refresh]).status == 401)
            #expect(try await api.call("POST", "/api/v1/auth/login", json: ["email": email, "password": Self.password]).status == 401)

            // The images go (record and file); nobody can see the public one any more.
            try await eventually(timeout: .seconds(20), pollEvery: .milliseconds(200), "the public image is gone\n\(suite.logs)") {
                try await api.call("GET", "/api/v1/images/\(imageID)").status == 404
            }
            #expect(try await api.call("GET", "/api/v1/images/\(imageID)/content").status == 404)

            // The ledger stays with its sums, under an anonymous row; the email can sign up afresh.
            let pool = PostgresPool(configuration: PostgresConfiguration(url: suite.servers.databaseURL, maxConnections: 1), logger: Logger(label: "test"))
            try await eventually(timeout: .seconds(20), pollEvery: .milliseconds(200), "generation drops the account's webhook endpoints") {
                try await pool.query("SELECT 1 FROM pingvas_e2e_generation.webhook_endpoints WHERE user_id = $1::uuid", userID).isEmpty
            }
            let row = try await pool.query(
                """
                SELECT u.email, u.display_name, a.balance, (SELECT count(*) FROM pingvas_e2e_user.credit_entries l WHERE l.user_id = u.id) AS entries
                FROM pingvas_e2e_user.users u JOIN pingvas_e2e_user.credit_accounts a ON a.user_id = u.id WHERE u.id = $1::uuid
                """, userID).first
            await pool.close()
            let stored = try #require(row)
            #expect(try stored.decode(String.self, "email") == "deleted-\(userID)@deleted.invalid")
            #expect(try stored.decode(String.self, "display_name") == "Deleted user")
            #expect(try stored.decode(Int64.self, "balance") == Int64(balance), "the balance is kept")
            #expect(try stored.decode(Int64.self, "entries") >= 2, "the ledger is kept (grant, hold, capture)")
            let again = try await api.call("POST", "/api/v1/auth/signup", json: ["email": email, "password": Self.password, "display_name": "Back"])
            #expect(again.status == 201, "\(again.text)")
        }
    }
}

extension AccountDeletionTests {
    /// Deleting a subscriber's account cancels the subscription at Lemon Squeezy (a fake API on
    /// loopback): user announces `user.deleted`, payment-webhook records it and sends the DELETE.
    @Test func deletingASubscribersAccountCancelsTheSubscriptionAtLemonSqueezy() async throws {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("\(TestStack.uniqueName("lemon")).jsonl")
        FileManager.default.createFile(atPath: output.path, contents: nil)
        let key = "ls_e2e_api_key_5d1f"
        let lemon = try await LoopbackPythonServer(script: "fake_api.py", folder: "lemonsqueezy", arguments: [output.path, key])
        defer { lemon.stop() }
        let environment = PaymentsEndToEndTests.environment.merging([
            "PINGVAS_LEMONSQUEEZY_API_URL": lemon.baseURL, "PINGVAS_LEMONSQUEEZY_API_KEY": key, "PINGVAS_LEMONSQUEEZY_STORE_ID": "12345",
        ]) { _, new in new }
        try await ServiceSuite.with(extraEnvironment: environment) { suite in
            let api = GatewayClient(baseURL: suite.gatewayURL)
            let password = "correct horse battery"
            let signup = try await api.call("POST", "/api/v1/auth/signup", json: [
                "email": "subscriber-\(UUID().uuidString.prefix(6))@example.com", "password": password, "display_name": "Subscriber",
            ])
            let token = try #require(signup.json["access_token"] as? String, "signup: \(signup.text)")
            let user = try #require((signup.json["user"] as? [String: Any])?["id"] as? String)
            _ = try await PaymentsEndToEndTests().webhook(api, LemonSqueezyBodies.subscription("subscription_created", id: 7300, user: user, status: "active", updatedAt: "2030-01-01T10:00:00.000000Z"))
            try await eventually(timeout: .seconds(20), pollEvery: .milliseconds(100), "the subscription is stored\n\(suite.logs)") {
                try await api.call("GET", "/api/v1/billing/subscription", token: token).json["plan"] as? String == "pro"
            }
            #expect((try String(contentsOf: output, encoding: .utf8)).isEmpty, "nothing is cancelled while the account lives")

            let deleted = try await api.call("DELETE", "/api/v1/me", token: token, json: ["password": password])
            #expect(deleted.status == 204, "\(deleted.text)")
            var lines: [[String: Any]] = []
            try await eventually(timeout: .seconds(30), pollEvery: .milliseconds(100), "Lemon Squeezy is asked to cancel subscription 7300\n\(suite.logs)") {
                lines = try String(contentsOf: output, encoding: .utf8).split(separator: "\n").compactMap {
                    try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
                }
                return !lines.isEmpty
            }
            // Room for a wrong second request to arrive: none may.
            try await Task.sleep(for: .milliseconds(500))
            lines = try String(contentsOf: output, encoding: .utf8).split(separator: "\n").compactMap {
                try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
            #expect(lines.count == 1 && lines.first?["id"] as? Int == 7300, "\(lines)")
            #expect(lines.first?["authorized"] as? Bool == true && lines.first?["accept"] as? Bool == true, "\(lines)")
        }
    }
}
