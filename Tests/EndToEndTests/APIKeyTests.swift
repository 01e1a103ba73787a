import Foundation
import HTTPClient
import TestSupport
import Testing

/// API keys through the gateway with all seven real executables: create, use within the scopes,
/// refused beyond them, listed without the secret, revoked and refused within a second; and the
/// services themselves refuse an identity that did not come through the gateway.
@Suite(.serialized, .timeLimit(.minutes(3))) struct APIKeyTests {
    static var job: [String: Any] { ["model": "preview", "prompt": "a key-made lighthouse", "width": 64, "height": 64, "steps": 1, "cfg_scale": 7] }

    @Test func lifecycleThroughTheGateway() async throws {
        try await ServiceSuite.with { suite in
            let api = GatewayClient(baseURL: suite.gatewayURL)
            let signup = try await api.call("POST", "/api/v1/auth/signup", json: [
                "email": "keys-\(UUID().uuidString.prefix(8).lowercased())@example.com", "password": "correct horse battery", "display_name": "K",
            ])
            let token = try #require(signup.json["access_token"] as? String, "\(signup.text)")
            let userID = try #require((signup.json["user"] as? [String: Any])?["id"] as? String)

            let created = try await api.call("POST", "/api/v1/api-keys", token: token, json: ["name": "reader", "scopes": ["read"]])
            #expect(created.status == 201, "\(created.text)")
            #expect(created.headers["Cache-Control"] == "no-store")
            let readKey = try #require(created.json["key"] as? String)
            let readKeyID = try #require(created.json["id"] as? String)
            #expect(readKey.hasPrefix("pvk_") && readKey.count > 40)
            let maker = try await api.call("POST", "/api/v1/api-keys", token: token, json: ["name": "maker", "scopes": ["generate", "read"]])
            let makeKey = try #require(maker.json["key"] as? String, "\(maker.text)")
            #expect(try await api.call("POST", "/api/v1/api-keys", token: token, json: ["name": "x", "scopes": ["admin"]]).status == 422)

            // A read key reads as its owner, and cannot submit.
            let me = try await api.call("GET", "/api/v1/me", token: readKey)
            #expect(me.status == 200, "\(me.text)")
            #expect(me.json["id"] as? String == userID)
            let refused = try await api.call("POST", "/api/v1/generations", token: readKey, json: Self.job)
            #expect(refused.status == 403, "\(refused.text)")
            #expect(refused.problemType == "insufficient-scope")

            // A generate key submits; a key never manages keys.
            let submitted = try await api.call("POST", "/api/v1/generations", token: makeKey, json: Self.job, headers: [("Idempotency-Key", UUID().uuidString)])
            #expect(submitted.status == 202, "\(submitted.text)")
            let jobID = try #require(submitted.json["id"] as? String)
            #expect(try await api.call("GET", "/api/v1/generations/\(jobID)", token: readKey).status == 200)
            #expect(try await api.call("GET", "/api/v1/api-keys", token: makeKey).status == 403)
            #expect(try await api.call("POST", "/api/v1/api-keys", token: makeKey, json: ["name": "y", "scopes": ["read"]]).status == 403)

            // Listed without the secret, with the last use recorded.
            let listed = try await api.call("GET", "/api/v1/api-keys", token: token)
            let items = try #require(listed.json["items"] as? [[String: Any]], "\(listed.text)")
            #expect(items.count == 2)
            #expect(!listed.text.contains(readKey) && !listed.text.contains(makeKey), "the secret is shown once only")
            let reader = try #require(items.first { $0["id"] as? String == readKeyID })
            #expect(reader["last_used_at"] is String, "last_used_at is recorded: \(reader)")
            #expect((reader["prefix"] as? String).map { readKey.hasPrefix($0) } == true)

            // Someone else cannot revoke it; its owner can, and it stops working within a second.
            let other = try await api.call("POST", "/api/v1/auth/signup", json: [
                "email": "other-\(UUID().uuidString.prefix(8).lowercased())@example.com", "password": "correct horse battery", "display_name": "O",
            ])
            let otherToken = try #require(other.json["access_token"] as? String)
            #expect(try await api.call("DELETE", "/api/v1/api-keys/\(readKeyID)", token: otherToken).status == 404)
            #expect(try await api.call("GET", "/api/v1/me", token: readKey).status == 200, "still valid (and cached)")
            #expect(try await api.call("DELETE", "/api/v1/api-keys/\(readKeyID)", token: token).status == 204)
            let revokedAt = ContinuousClock.now
            try await eventually(timeout: .seconds(3), pollEvery: .milliseconds(50), "the revoked key is refused") {
                try await api.call("GET", "/api/v1/me", token: readKey).status == 401
            }
            #expect(ContinuousClock.now - revokedAt < .milliseconds(1500), "revocation took \(ContinuousClock.now - revokedAt)")
            #expect(try await api.call("GET", "/api/v1/me", token: makeKey).status == 200, "the other key still works")
            #expect(try await api.call("GET", "/api/v1/me", token: "pvk_not-a-key-at-all").status == 401)
        }
    }

    @Test func aForgedIdentitySentStraightToAServiceIsRefused() async throws {
        try await ServiceSuite.with { suite in
            let api = GatewayClient(baseURL: suite.gatewayURL)
            let signup = try await api.call("POST", "/api/v1/auth/signup", json: [
                "email": "forged-\(UUID().uuidString.prefix(8).lowercased())@example.com", "password": "correct horse battery", "display_name": "F",
            ])
            let userID = try #require((signup.json["user"] as? [String: Any])?["id"] as? String, "\(signup.text)")
            for service in ["user", "generation", "gallery", "payment-webhook"] {
                let direct = GatewayClient(baseURL: suite.processes[service]!.baseURL)
                let path = service == "user" ? "/api/v1/me" : service == "generation" ? "/api/v1/generations" : service == "gallery" ? "/api/v1/images" : "/api/v1/billing/subscription"
                let forged = try await direct.call("GET", path, headers: [("X-User-Id", userID), ("X-User-Roles", "admin"), ("X-User-Plan", "studio")])
                #expect(forged.status == 401, "\(service): \(forged.text)")
                #expect(forged.problemType == "invalid-identity", "\(service)")
                let grant = try await direct.call("POST", "/internal/credits/grants", json: ["user_id": userID, "amount": 1_000_000, "reason": "x", "reference": "forged"])
                #expect(grant.status == 401 || grant.status == 404, "\(service) /internal without a credential: \(grant.status)")
            }
            let me = try await api.call("GET", "/api/v1/me", token: try #require(signup.json["access_token"] as? String))
            #expect(me.json["credits"] as? Int == 100, "no forged grant went through")
        }
    }
}
