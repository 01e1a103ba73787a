import Foundation
import HTTPClient
import Logging
import PostgresClient
import TestSupport
import Testing

/// The admin API through the gateway with the real executables: suspension takes effect at the
/// user's next request whatever they hold, credits move with a reason, and every action is audited.
@Suite(.serialized, .timeLimit(.minutes(3))) struct AdminTests {
    func signup(_ api: GatewayClient, _ name: String) async throws -> (token: String, id: String, email: String) {
        let email = "\(name)-\(UUID().uuidString.prefix(8).lowercased())@example.com"
        let reply = try await api.call("POST", "/api/v1/auth/signup", json: ["email": email, "password": "correct horse battery", "display_name": name])
        let token = try #require(reply.json["access_token"] as? String, "\(reply.text)")
        return (token, try #require((reply.json["user"] as? [String: Any])?["id"] as? String), email)
    }

    @Test func suspendRestoreCreditsAndAudit() async throws {
        try await ServiceSuite.with { suite in
            let api = GatewayClient(baseURL: suite.gatewayURL)
            let boss = try await signup(api, "boss")
            let alice = try await signup(api, "alice")
            // No API grants admin: it is set in the database, and the next login's token carries it.
            let pool = PostgresPool(configuration: PostgresConfiguration(url: suite.servers.databaseURL, maxConnections: 1), logger: Logger(label: "test"))
            try await pool.execute("UPDATE pingvas_e2e_user.users SET roles = '{user,admin}' WHERE id = $1::uuid", boss.id)
            await pool.close()
            let relogin = try await api.call("POST", "/api/v1/auth/login", json: ["email": boss.email, "password": "correct horse battery"])
            let admin = try #require(relogin.json["access_token"] as? String, "\(relogin.text)")

            #expect(try await api.call("GET", "/api/v1/admin/users?q=alice", token: alice.token).status == 403, "users are no admins")
            let found = try await api.call("GET", "/api/v1/admin/users?q=\(alice.email.prefix(14))", token: admin)
            #expect(found.status == 200, "\(found.text)")
            #expect((found.json["items"] as? [[String: Any]])?.map { $0["id"] as? String } == [alice.id])

            let key = try #require(
                try await api.call("POST", "/api/v1/api-keys", token: alice.token, json: ["name": "k", "scopes": ["read"]]).json["key"] as? String)
            #expect(try await api.call("GET", "/api/v1/me", token: key).status == 200)

            let granted = try await api.call("POST", "/api/v1/admin/users/\(alice.id)/credits", token: admin, json: ["amount": 50, "reason": "support gesture"])
            #expect(granted.status == 200, "\(granted.text)")
            #expect(granted.json["balance"] as? Int == 150)
            let taken = try await api.call("POST", "/api/v1/admin/users/\(alice.id)/credits", token: admin, json: ["amount": -20, "reason": "abuse"])
            #expect(taken.json["balance"] as? Int == 130)
            #expect(try await api.call("POST", "/api/v1/admin/users/\(alice.id)/credits", token: admin, json: ["amount": 5]).status == 422, "a reason is required")

            let suspended = try await api.call("POST", "/api/v1/admin/users/\(alice.id)/suspend", token: admin, json: ["reason": "chargeback fraud"])
            #expect(suspended.status == 200, "\(suspended.text)")
            // The very next request, with a token that is still valid, and with her key: refused.
            let withToken = try await api.call("GET", "/api/v1/me", token: alice.token)
            #expect(withToken.status == 403)
            #expect(withToken.problemType == "account-suspended")
            // Her key: 403 `account-suspended` while the gateway still holds the key's look-up (1 s),
            // 401 after (the user service no longer resolves a suspended owner's key). Refused either way.
            let withKey = try await api.call("GET", "/api/v1/me", token: key)
            #expect([401, 403].contains(withKey.status), "\(withKey.text)")
            let login = try await api.call("POST", "/api/v1/auth/login", json: ["email": alice.email, "password": "correct horse battery"])
            #expect(login.status == 403 && login.problemType == "account-suspended", "\(login.text)")

            let restored = try await api.call("POST", "/api/v1/admin/users/\(alice.id)/restore", token: admin, json: ["reason": "resolved"])
            #expect(restored.status == 200)
            #expect(try await api.call("GET", "/api/v1/me", token: alice.token).status == 200)

            let audit = try await api.call("GET", "/api/v1/admin/audit?user_id=\(alice.id)", token: admin)
            let rows = try #require(audit.json["items"] as? [[String: Any]], "\(audit.text)")
            #expect(rows.compactMap { $0["action"] as? String } == ["user.restore", "user.suspend", "credits.take", "credits.grant"])
            #expect(rows.allSatisfy { $0["admin_id"] as? String == boss.id })
            let suspendRow = try #require(rows.first { $0["action"] as? String == "user.suspend" })
            #expect(suspendRow["reason"] as? String == "chargeback fraud")
            #expect((suspendRow["before"] as? String)?.contains("\"suspended_at\"") == false || (suspendRow["before"] as? String)?.contains("null") == true)
            #expect((suspendRow["after"] as? String)?.contains("suspended_at") == true)

            let detail = try await api.call("GET", "/api/v1/admin/users/\(alice.id)", token: admin)
            let ledger = try #require(detail.json["ledger"] as? [[String: Any]], "\(detail.text)")
            #expect(ledger.contains { $0["reason"] as? String == "admin: support gesture" && $0["amount"] as? Int == 50 })
        }
    }
}
