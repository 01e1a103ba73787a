import Foundation
import HTTPClient
import Testing
import TestSupport

/// The operations of #13 and #14 in the contract walk: thumbnails, remix, reports and the admins'
/// review of images; password change, API keys, social-login routes and the admin API of users.
extension ContractTests {
    /// Thumbnail, reports and remix of the caller's own (public) image; the remixed job's id.
    func walkImageExtras(_ api: Recording, token: String, imageID: String) async throws -> String {
        try await api.call("GET", "/api/v1/images/\(imageID)/thumbnail", token: token, expect: 200)
        try await api.call("GET", "/api/v1/images/\(imageID)/thumbnail", expect: 200)  // public now
        try await api.call("GET", "/api/v1/images/\(UUID())/thumbnail", token: token, expect: 404)
        try await api.call("POST", "/api/v1/images/\(imageID)/reports", token: token, json: ["reason": "spam"], expect: 422)  // own image
        try await api.call("POST", "/api/v1/images/\(UUID())/reports", token: token, json: ["reason": "spam"], expect: 404)
        try await api.call("POST", "/api/v1/images/\(imageID)/reports", json: ["reason": "spam"], expect: 401)
        let remix = try await api.call(
            "POST", "/api/v1/images/\(imageID)/remix", token: token, json: ["prompt": "a lighthouse at dawn", "seed": 11],
            headers: [("Idempotency-Key", UUID().uuidString)], expect: 202)
        #expect(remix.headers["Location"]?.hasPrefix("/api/v1/generations/") == true, "Location: \(remix.headers)")
        try await api.call("POST", "/api/v1/images/\(imageID)/remix", token: token, json: ["colour": "red"], expect: 422)
        try await api.call("POST", "/api/v1/images/\(imageID)/remix", token: token, raw: "[1]", expect: 400)
        try await api.call("POST", "/api/v1/images/\(imageID)/remix", token: token, json: ["width": 100_000], expect: 422)
        try await api.call("POST", "/api/v1/images/\(UUID())/remix", token: token, expect: 404)
        return try #require(remix.json["id"] as? String, "\(remix.text)")
    }

    /// Password change, API keys and the social-login routes (no provider is configured here).
    func walkAccount(_ api: Recording, token: String, email: String) async throws -> String {
        try await api.call("GET", "/api/v1/auth/oauth/google/start", expect: 404)
        try await api.call("GET", "/api/v1/auth/oauth/myspace/start", expect: 404)
        try await api.call("GET", "/api/v1/auth/oauth/discord/callback?state=forged&code=abc", expect: 400)
        try await api.call("GET", "/api/v1/auth/oauth/discord/callback?error=access_denied", expect: 401)

        let created = try await api.call("POST", "/api/v1/api-keys", token: token, json: ["name": "script", "scopes": ["read"]], expect: 201)
        let key = try #require(created.json["key"] as? String, "\(created.text)")
        let keyID = try #require(created.json["id"] as? String)
        try await api.call("POST", "/api/v1/api-keys", token: token, json: ["name": "x", "scopes": ["admin"]], expect: 422)
        try await api.call("POST", "/api/v1/api-keys", token: token, json: ["name": "a\u{0}b", "scopes": ["read"]], expect: 422)
        try await api.call("POST", "/api/v1/api-keys", token: token, json: ["name": 5], expect: 400)
        try await api.call("GET", "/api/v1/api-keys", token: token, expect: 200)
        try await api.call("GET", "/api/v1/me", token: key, expect: 200)  // the key reads as its owner
        try await api.call("GET", "/api/v1/api-keys", token: key, expect: 403)  // keys never manage keys
        try await api.call("GET", "/api/v1/api-keys", expect: 401)
        try await api.call("DELETE", "/api/v1/api-keys/\(keyID)", token: token, expect: 204)
        try await api.call("DELETE", "/api/v1/api-keys/\(keyID)", token: token, expect: 404)

        let newPassword = "a new horse battery"
        try await api.call("POST", "/api/v1/me/password", token: token, json: ["current_password": "wrong password", "new_password": newPassword], expect: 403)
        try await api.call("POST", "/api/v1/me/password", token: token, json: ["current_password": Self.password, "new_password": "short"], expect: 422)
        try await api.call("POST", "/api/v1/me/password", token: token, raw: "{", expect: 400)
        try await api.call("POST", "/api/v1/me/password", token: token, json: ["current_password": Self.password, "new_password": newPassword], expect: 204)
        try await api.call("POST", "/api/v1/auth/login", json: ["email": email, "password": newPassword], expect: 200)
        return newPassword
    }

    /// The admin API: users, credits, suspension, audit; reports, hiding and restoring an image.
    func walkAdmin(_ api: Recording, admin: String, token: String, userID: String, remixJob: String) async throws {
        try await api.call("GET", "/api/v1/admin/users", token: token, expect: 403)
        try await api.call("GET", "/api/v1/admin/images/reports", token: token, expect: 403)
        try await api.call("GET", "/api/v1/admin/users?q=contract&limit=5", token: admin, expect: 200)
        try await api.call("GET", "/api/v1/admin/users?limit=0", token: admin, expect: 400)
        try await api.call("GET", "/api/v1/admin/users?q=a%00b", token: admin, expect: 422)
        try await api.call("GET", "/api/v1/admin/users/\(userID)", token: admin, expect: 200)
        try await api.call("GET", "/api/v1/admin/users/\(UUID())", token: admin, expect: 404)
        try await api.call("POST", "/api/v1/admin/users/\(userID)/credits", token: admin, json: ["amount": 50, "reason": "contract"], expect: 200)
        try await api.call("POST", "/api/v1/admin/users/\(userID)/credits", token: admin, json: ["amount": 0, "reason": "zero"], expect: 422)
        try await api.call("POST", "/api/v1/admin/users/\(userID)/credits", token: admin, json: ["amount": -1, "reason": "a\u{0}"], expect: 422)
        try await api.call("POST", "/api/v1/admin/users/\(UUID())/credits", token: admin, json: ["amount": 5, "reason": "nobody"], expect: 404)
        try await api.call("POST", "/api/v1/admin/users/\(userID)/credits", token: admin, json: ["amount": "many"], expect: 400)
        try await api.call("POST", "/api/v1/admin/users/\(userID)/suspend", token: admin, json: ["reason": "contract"], expect: 200)
        try await api.call("POST", "/api/v1/admin/users/\(UUID())/suspend", token: admin, json: ["reason": "nobody"], expect: 404)
        try await api.call("POST", "/api/v1/admin/users/\(userID)/restore", token: admin, json: ["reason": "contract"], expect: 200)
        try await api.call("POST", "/api/v1/admin/users/\(userID)/restore", token: admin, json: [:], expect: 422)
        try await api.call("GET", "/api/v1/admin/audit?user_id=\(userID)&limit=10", token: admin, expect: 200)
        try await api.call("GET", "/api/v1/admin/audit?user_id=nonsense", token: admin, expect: 400)
        try await api.call("GET", "/api/v1/admin/jobs?user_id=\(userID)&limit=2", token: admin, expect: 200)
        try await api.call("GET", "/api/v1/admin/jobs", token: admin, expect: 400)
        try await api.call("GET", "/api/v1/admin/jobs?user_id=\(userID)", token: token, expect: 403)
        try await api.call("GET", "/api/v1/admin/images?user_id=\(userID)&limit=2", token: admin, expect: 200)
        try await api.call("GET", "/api/v1/admin/images?user_id=nonsense", token: admin, expect: 400)
        try await api.call("GET", "/api/v1/admin/images?user_id=\(userID)", token: token, expect: 403)

        // The remixed image, public, reported by another user (the admin), hidden and restored.
        var imageID = ""
        try await eventually(timeout: .seconds(30), "the remix's image reaches the gallery") {
            let job = try await api.api.call("GET", "/api/v1/generations/\(remixJob)", token: token)
            imageID = ((job.json["images"] as? [[String: Any]])?.first?["id"] as? String) ?? ""
            guard !imageID.isEmpty else { return false }
            return try await api.api.call("GET", "/api/v1/images/\(imageID)", token: token).status == 200
        }
        try await api.call("PATCH", "/api/v1/images/\(imageID)", token: token, json: ["visibility": "public"], expect: 200)
        try await api.call("POST", "/api/v1/images/\(imageID)/reports", token: admin, json: ["reason": "contract"], expect: 201)
        try await api.call("POST", "/api/v1/images/\(imageID)/reports", token: admin, json: ["reason": "again"], expect: 409)
        try await api.call("POST", "/api/v1/images/\(imageID)/reports", token: admin, json: [:], expect: 422)
        try await api.call("GET", "/api/v1/admin/images/reports?limit=5", token: admin, expect: 200)
        try await api.call("GET", "/api/v1/admin/images/reports?cursor=nonsense", token: admin, expect: 400)
        try await api.call("POST", "/api/v1/admin/images/\(imageID)/hide", token: admin, json: [:], expect: 422)
        try await api.call("POST", "/api/v1/admin/images/\(imageID)/hide", token: admin, json: ["reason": "contract"], expect: 200)
        try await api.call("POST", "/api/v1/admin/images/\(UUID())/hide", token: admin, json: ["reason": "nobody"], expect: 404)
        try await api.call("GET", "/api/v1/images/\(imageID)", expect: 404)
        try await api.call("POST", "/api/v1/admin/images/\(imageID)/restore", token: admin, expect: 200)
        try await api.call("POST", "/api/v1/admin/images/\(imageID)/restore", token: admin, raw: "nope", expect: 400)
        try await api.call("GET", "/api/v1/images/\(imageID)", expect: 200)
        try await api.call("GET", "/api/v1/admin/images/actions?limit=5", token: admin, expect: 200)
        try await api.call("GET", "/api/v1/admin/images/actions?limit=0", token: admin, expect: 422)
    }

    /// Enabling an endpoint, the per-job signing secret, and a submission's own webhook.
    func walkWebhookExtras(_ api: Recording, token: String, hookID: String) async throws {
        let enabled = try await api.call("POST", "/api/v1/webhooks/\(hookID)/enable", token: token, expect: 200)
        #expect(enabled.json["disabled"] as? Bool == false, "\(enabled.text)")
        try await api.call("POST", "/api/v1/webhooks/\(UUID())/enable", token: token, expect: 404)
        try await api.call("GET", "/api/v1/webhooks/default/secret", token: token, expect: 200)
        try await api.call("GET", "/api/v1/webhooks/default/secret", expect: 401)
        let own = Self.job.merging(["seed": 12, "webhook": "http://127.0.0.1:9/own", "webhook_events": ["generation.failed"]]) { _, new in new }
        try await api.call("POST", "/api/v1/generations", token: token, json: own, expect: 202)
        try await api.call("POST", "/api/v1/generations", token: token, json: Self.job.merging(["webhook": "http://10.0.0.1/"]) { _, new in new }, expect: 422)
        try await api.call("POST", "/api/v1/generations", token: token, json: Self.job.merging(["webhook": 5]) { _, new in new }, expect: 400)
        try await api.call("POST", "/api/v1/generations", token: token, json: Self.job.merging(["webhook_events": ["generation.failed"]]) { _, new in new }, expect: 422)
    }

    /// Account deletion, last: the account's token is refused afterwards and its images go.
    func walkDeletion(_ api: Recording, token: String, admin: String, userID: String, email: String, password: String) async throws {
        try await api.call("DELETE", "/api/v1/me", token: token, json: ["password": "wrong password"], expect: 403)
        try await api.call("DELETE", "/api/v1/me", token: token, json: [:], expect: 422)
        try await api.call("DELETE", "/api/v1/me", token: token, raw: "[]", expect: 400)
        try await api.call("DELETE", "/api/v1/me", token: token, json: ["password": password], expect: 204)
        try await api.call("GET", "/api/v1/me", token: token, expect: 403)
        try await api.call("POST", "/api/v1/auth/login", json: ["email": email, "password": password], expect: 401)
        try await eventually(timeout: .seconds(20), pollEvery: .milliseconds(200), "the deleted account's images are gone") {
            let page = try await api.api.call("GET", "/api/v1/admin/images?user_id=\(userID)", token: admin)
            return (page.json["items"] as? [Any])?.isEmpty == true
        }
    }

    /// Reads with validators: the `ETag` of an answer gives 304 (no body) while nothing changed.
    func walkETags(_ api: Recording, token: String, paths: [String]) async throws {
        for path in paths {
            let first = try await api.call("GET", path, token: token, expect: 200)
            let tag = try #require(first.headers["ETag"], "\(path) has no ETag: \(first.headers)")
            #expect(tag.hasPrefix("W/\""))
            let again = try await api.call("GET", path, token: token, headers: [("If-None-Match", tag)], expect: 304)
            #expect(again.body.isEmpty && again.headers["ETag"] == tag)
            try await api.call("GET", path, token: token, headers: [("If-None-Match", "W/\"other\"")], expect: 200)
        }
    }
}
