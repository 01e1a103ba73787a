import Core
import Foundation
import HTTPTypes
import Logging
import RedisClient
import ServiceKit
import TestSupport
import Testing

@testable import UserService

/// What schemathesis throws at the admin and API-key routes: bad input is a problem with a stable
/// type, never a 500, and leaves nothing behind (no ledger entry, no suspension key in Redis).
@Suite(.timeLimit(.minutes(2))) struct AdminInputTests {
    @Test func badInputIsAProblemAndChangesNothing() async throws {
        let keys = PipelineKeys(namespace: TestStack.uniqueName("admin-input"))
        let redis = RedisPool(configuration: RedisConfiguration(url: try TestStack.shared().redisURL), logger: Logger(label: "test"))
        try await UserServiceHarness.withApp(adjust: { $0.keys = keys }) { api in
            let account = try await api.signup()
            let admin = HTTPFields.identity(UserID(), roles: "user,admin")
            let balance = try await api.balance(of: account)

            for (uri, status, type) in [
                ("/api/v1/admin/users?q=a%00b", 422, "validation-failed"),
                ("/api/v1/admin/users?q=\(String(repeating: "x", count: 201))", 422, "validation-failed"),
                ("/api/v1/admin/users?limit=0", 400, "invalid-query"),
                ("/api/v1/admin/users?limit=lots", 400, "invalid-query"),
                ("/api/v1/admin/audit?user_id=nonsense", 400, "invalid-query"),
                ("/api/v1/admin/audit?limit=501", 400, "invalid-query"),
            ] {
                let response = try await api.get(uri, headers: admin)
                #expect(response.status.code == status && response.problemType == type, "\(uri): \(response.status) \(response.text)")
            }
            #expect(try await api.get("/api/v1/admin/users?q=\(account.email.prefix(8))&limit=200", headers: admin).status == .ok)

            let nul = try await api.post("/api/v1/admin/users/\(account.id)/credits", json: ["amount": 5, "reason": "a\u{0}b"], headers: admin)
            #expect(nul.status == .unprocessableContent && nul.problemType == "validation-failed", "\(nul.text)")
            #expect(try await api.balance(of: account) == balance, "a refused grant changed the balance")
            let suspendNUL = try await api.post("/api/v1/admin/users/\(account.id)/suspend", json: ["reason": "\u{0}"], headers: admin)
            #expect(suspendNUL.status == .unprocessableContent, "\(suspendNUL.text)")

            let stranger = UserID()
            let unknown = try await api.post("/api/v1/admin/users/\(stranger)/suspend", json: ["reason": "nobody"], headers: admin)
            #expect(unknown.status == .notFound, "\(unknown.text)")
            #expect(try await redis.send(["EXISTS", keys.suspended(stranger)]).int == 0, "an unknown id left a suspension key in Redis")
            #expect((try await api.get("/api/v1/admin/audit?user_id=\(stranger)", headers: admin).json["items"] as? [Any])?.isEmpty == true)

            // The audit log pages like every list: next_cursor until the last page, then null.
            for amount in [1, 2] {
                #expect(try await api.post("/api/v1/admin/users/\(account.id)/credits", json: ["amount": amount, "reason": "paging"], headers: admin).status == .ok)
            }
            let first = try await api.get("/api/v1/admin/audit?user_id=\(account.id)&limit=1", headers: admin)
            let cursor = try #require(first.json["next_cursor"] as? String, "\(first.text)")
            let second = try await api.get("/api/v1/admin/audit?user_id=\(account.id)&limit=1&cursor=\(cursor)", headers: admin)
            let amounts = [first, second].compactMap { ($0.json["items"] as? [[String: Any]])?.first?["after"] as? String }
            #expect(amounts.count == 2 && amounts[0] != amounts[1], "two different entries, newest first: \(amounts)")
            let last = try await api.get("/api/v1/admin/audit?user_id=\(account.id)&limit=2&cursor=\(cursor)", headers: admin)
            #expect((last.json["items"] as? [Any])?.count == 1 && last.json["next_cursor"] is NSNull, "\(last.text)")
            let forged = try await api.get("/api/v1/admin/audit?cursor=abc", headers: admin)
            #expect(forged.status == .badRequest && forged.problemType == "invalid-cursor", "\(forged.text)")

            let key = try await api.post("/api/v1/api-keys", json: ["name": "a\u{0}", "scopes": ["read"]], headers: account.identity)
            #expect(key.status == .unprocessableContent, "\(key.text)")
            #expect((try await api.get("/api/v1/api-keys", headers: account.identity).json["items"] as? [Any])?.isEmpty == true)
        }
        await redis.close()
    }

    @Test func aDeletedAccountStaysLockedAndAnonymous() async throws {
        try await UserServiceHarness.withApp { api in
            let account = try await api.signup()
            let admin = HTTPFields.identity(UserID(), roles: "user,admin")
            let body = #"{"password": "correct horse battery"}"#
            let deleted = try await api.send("/api/v1/me", method: .delete, headers: account.identity, body: body)
            #expect(deleted.status == .noContent, "\(deleted.text)")
            let again = try await api.send("/api/v1/me", method: .delete, headers: account.identity, body: body)
            #expect(again.status == .forbidden, "the old password no longer confirms anything: \(again.text)")

            let shown = try await api.get("/api/v1/admin/users/\(account.id)", headers: admin)
            let user = try #require(shown.json["user"] as? [String: Any], "\(shown.text)")
            #expect(user["email"] as? String == "deleted-\(account.id)@deleted.invalid" && user["display_name"] as? String == "Deleted user")
            #expect(user["deleted_at"] is String && user["suspended_at"] is String && (user["roles"] as? [String])?.isEmpty == true)
            #expect((shown.json["ledger"] as? [Any])?.isEmpty == false, "the ledger is kept")

            let restored = try await api.post("/api/v1/admin/users/\(account.id)/restore", json: ["reason": "oops"], headers: admin)
            #expect(restored.status == .conflict && restored.problemType == "account-deleted", "\(restored.text)")
            let login = try await api.post("/api/v1/auth/login", json: ["email": account.email, "password": account.password])
            #expect(login.status == .unauthorized, "\(login.text)")
            let refresh = try await api.post("/api/v1/auth/refresh", json: ["refresh_token": account.refreshToken])
            #expect(refresh.status == .unauthorized || refresh.status == .forbidden, "\(refresh.text)")
        }
    }
}
