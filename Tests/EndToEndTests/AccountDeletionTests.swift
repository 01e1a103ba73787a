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
