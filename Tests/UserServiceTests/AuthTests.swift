import Foundation
import HTTPTypes
import PingvasCrypto
import TestSupport
import Testing

@testable import UserService

@Suite(.timeLimit(.minutes(2))) struct AuthTests {
    @Test func signupReturnsTokensNormalisesEmailAndGrantsCredits() async throws {
        try await UserServiceHarness.withApp { api in
            let raw = "  Alice.\(UUID().uuidString.prefix(6))@Example.COM "
            let response = try await api.post(
                "/api/v1/auth/signup", json: ["email": raw, "password": "s3cret-enough", "display_name": "  Alice  "])
            #expect(response.status == .created)
            let body = response.json
            #expect(body["token_type"] as? String == "Bearer")
            #expect(body["expires_in"] as? Int == 900)
            #expect((body["access_token"] as? String)?.isEmpty == false)
            #expect((body["refresh_token"] as? String)?.isEmpty == false)
            let user = try #require(body["user"] as? [String: Any])
            let id = try #require(user["id"] as? String)
            #expect(user["email"] as? String == raw.trimmingCharacters(in: .whitespaces).lowercased())
            #expect(user["display_name"] as? String == "Alice")

            let me = try await api.get("/api/v1/me", headers: .identity(id))
            #expect(me.status == .ok)
            #expect(me.json["id"] as? String == id)
            #expect(me.json["credits"] as? Int == 100)
            #expect(me.json["roles"] as? [String] == ["user"])
            #expect(me.json["plan"] as? String == "free")
            #expect(me.json["display_name"] as? String == "Alice")

            let credits = try await api.get("/api/v1/me/credits", headers: .identity(id))
            #expect(credits.json["balance"] as? Int == 100)
            let entries = try #require(credits.json["entries"] as? [[String: Any]])
            #expect(entries.count == 1)
            #expect(entries.first?["kind"] as? String == "grant")
            #expect(entries.first?["amount"] as? Int == 100)
            #expect(entries.first?["reference"] as? String == "signup:\(id)")
            #expect(credits.json.keys.contains("next_cursor"))
        }
    }

    @Test func signupGrantFollowsConfiguration() async throws {
        try await UserServiceHarness.withApp(["PINGVAS_SIGNUP_CREDITS": "7"]) { api in
            let account = try await api.signup()
            #expect(try await api.balance(of: account) == 7)
        }
    }

    @Test func duplicateEmailInAnotherCaseIsEmailTaken() async throws {
        try await UserServiceHarness.withApp { api in
            let account = try await api.signup(email: "Bob.\(UUID().uuidString.prefix(6))@example.com")
            let again = try await api.post(
                "/api/v1/auth/signup", json: ["email": account.email.uppercased(), "password": "another-password", "display_name": "Bob 2"])
            #expect(again.status == .conflict)
            #expect(again.problemType == "email-taken")
            #expect(again.headers[.contentType] == "application/problem+json")
        }
    }

    @Test func badSignupInputIsAProblemNeverA500() async throws {
        try await UserServiceHarness.withApp { api in
            let weak = try await api.post("/api/v1/auth/signup", json: ["email": "weak@example.com", "password": "short", "display_name": "W"])
            #expect(weak.status == .unprocessableContent)
            #expect(weak.problemType == "validation-failed")
            #expect((weak.json["errors"] as? [String: String])?.keys.sorted() == ["password"])

            let tooLong = try await api.post(
                "/api/v1/auth/signup", json: ["email": "long@example.com", "password": String(repeating: "x", count: 129), "display_name": "L"])
            #expect((tooLong.json["errors"] as? [String: String])?["password"] != nil)

            for email in ["not-an-email", "a@b", "two@@example.com", "sp ace@example.com", ""] {
                let bad = try await api.post("/api/v1/auth/signup", json: ["email": email, "password": "good-password", "display_name": "E"])
                #expect(bad.status == .unprocessableContent, "email \(email)")
                #expect((bad.json["errors"] as? [String: String])?["email"] != nil, "email \(email)")
            }

            let blankName = try await api.post(
                "/api/v1/auth/signup", json: ["email": "blank@example.com", "password": "good-password", "display_name": "   "])
            #expect((blankName.json["errors"] as? [String: String])?["display_name"] != nil)

            let missing = try await api.post("/api/v1/auth/signup", json: ["email": "missing@example.com", "password": "good-password"])
            #expect(missing.status == .unprocessableContent)
            #expect(missing.problemType == "validation-failed")
            #expect((missing.json["errors"] as? [String: String])?["display_name"] == "is required")

            let malformed = try await api.post("/api/v1/auth/signup", raw: #"{"email": "x@example.com", "password": "#)
            #expect(malformed.status == .badRequest)
            #expect(malformed.problemType == "invalid-body")

            let wrongType = try await api.post("/api/v1/auth/signup", json: ["email": 42, "password": "good-password", "display_name": "N"])
            #expect(wrongType.status == .badRequest)
            #expect(wrongType.problemType == "invalid-body")

            let empty = try await api.post("/api/v1/auth/signup", raw: nil)
            #expect((400..<500).contains(empty.status.code), "empty body: \(empty.status)")
            #expect(empty.problemType != nil)
        }
    }

    @Test func loginSucceedsAndBothFailuresLookTheSame() async throws {
        try await UserServiceHarness.withApp { api in
            let account = try await api.signup()
            let ok = try await api.post("/api/v1/auth/login", json: ["email": " \(account.email.uppercased()) ", "password": account.password])
            #expect(ok.status == .ok)
            #expect((ok.json["user"] as? [String: Any])?["id"] as? String == account.id)
            #expect(ok.json["refresh_token"] as? String != account.refreshToken)

            let wrongPassword = try await api.post("/api/v1/auth/login", json: ["email": account.email, "password": "wrong-password"])
            let unknownEmail = try await api.post("/api/v1/auth/login", json: ["email": "nobody-\(UUID())@example.com", "password": "wrong-password"])
            #expect(wrongPassword.status == .unauthorized)
            #expect(unknownEmail.status == .unauthorized)
            #expect(wrongPassword.problemType == "invalid-credentials")
            var first = wrongPassword.json
            var second = unknownEmail.json
            #expect(first["request_id"] != nil)
            first["request_id"] = nil
            second["request_id"] = nil
            #expect(NSDictionary(dictionary: first).isEqual(to: second), "\(first) vs \(second)")

            let missing = try await api.post("/api/v1/auth/login", json: ["email": account.email])
            #expect(missing.status == .unprocessableContent)
        }
    }

    @Test func refreshRotatesAndReuseRevokesTheWholeFamily() async throws {
        try await UserServiceHarness.withApp { api in
            let account = try await api.signup()
            let first = try await api.post("/api/v1/auth/refresh", json: ["refresh_token": account.refreshToken])
            #expect(first.status == .ok)
            let second = try #require(first.json["refresh_token"] as? String)
            #expect(second != account.refreshToken)
            #expect((first.json["access_token"] as? String)?.isEmpty == false)

            let third = try await api.post("/api/v1/auth/refresh", json: ["refresh_token": second])
            #expect(third.status == .ok)
            let newest = try #require(third.json["refresh_token"] as? String)

            // The first token was rotated away: presenting it again is a replay.
            let replay = try await api.post("/api/v1/auth/refresh", json: ["refresh_token": account.refreshToken])
            #expect(replay.status == .unauthorized)
            #expect(replay.problemType == "invalid-token")

            let afterReplay = try await api.post("/api/v1/auth/refresh", json: ["refresh_token": newest])
            #expect(afterReplay.status == .unauthorized, "the newest token of a replayed family must be revoked too")

            // Another login is another family and is unaffected.
            let login = try await api.post("/api/v1/auth/login", json: ["email": account.email, "password": account.password])
            let other = try #require(login.json["refresh_token"] as? String)
            #expect(try await api.post("/api/v1/auth/refresh", json: ["refresh_token": other]).status == .ok)

            let garbage = try await api.post("/api/v1/auth/refresh", json: ["refresh_token": "not-a-token"])
            #expect(garbage.status == .unauthorized)
            #expect(garbage.problemType == "invalid-token")
        }
    }

    @Test func logoutRevokesTheFamily() async throws {
        try await UserServiceHarness.withApp { api in
            let account = try await api.signup()
            let rotated = try await api.post("/api/v1/auth/refresh", json: ["refresh_token": account.refreshToken])
            let current = try #require(rotated.json["refresh_token"] as? String)

            let logout = try await api.post("/api/v1/auth/logout", json: ["refresh_token": current])
            #expect(logout.status == .noContent)
            let refresh = try await api.post("/api/v1/auth/refresh", json: ["refresh_token": current])
            #expect(refresh.status == .unauthorized)
            #expect(refresh.problemType == "invalid-token")

            #expect(try await api.post("/api/v1/auth/logout", json: ["refresh_token": current]).status == .noContent)
            #expect(try await api.post("/api/v1/auth/logout", json: [:]).status == .unprocessableContent)
        }
    }

    @Test func accessTokenVerifiesAndNamesTheUser() async throws {
        try await UserServiceHarness.withApp { api in
            let account = try await api.signup()
            // The gateway's view: only the public key, found by the token's key id in user's JWKS.
            let jwks = try await api.get("/internal/jwks")
            let key = try #require((jwks.json["keys"] as? [[String: Any]])?.first, "\(jwks.text)")
            let kid = try #require(key["kid"] as? String)
            let publicKey = try #require(Ed25519KeyPair.publicKey(jwkX: key["x"] as? String ?? ""))
            #expect(try Ed25519KeyPair(privateKeyBase64: testJWTSigningKey()).publicKeyBase64 == publicKey)
            let signer = try await TokenSigner(key: .ed25519Public(publicKeyBase64: publicKey), issuer: "pingvas-user", audience: "pingvas", kid: kid)
            let claims = try await signer.verify(account.accessToken)
            #expect(claims.sub == account.id)
            #expect(claims.plan == "free")
            #expect(claims.roles == ["user"])
            #expect(claims.iss == "pingvas-user")
            #expect(claims.aud == "pingvas")
            let lifetime = claims.exp.timeIntervalSince(claims.iat)
            #expect(lifetime == 900)

            let otherSigner = try await TokenSigner(
                key: .ed25519Public(publicKeyBase64: Ed25519KeyPair.generate().publicKeyBase64), issuer: "pingvas-user", audience: "pingvas", kid: kid)
            await #expect(throws: TokenError.invalid) { try await otherSigner.verify(account.accessToken) }
        }
    }
}
