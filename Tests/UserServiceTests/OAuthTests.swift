import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ServiceKit
import TestSupport
import Testing

@testable import UserService

/// Google and Discord sign-in against fake providers on loopback, through the real user service.
@Suite(.timeLimit(.minutes(2))) struct OAuthTests {
    /// What `start` put into the provider redirect.
    struct Started {
        var state: String
        var nonce: String?
        var challenge: String
        var redirectURI: String
        var location: URLComponents
    }

    static func withOAuth(_ body: @escaping @Sendable (APIClient, FakeOAuthProvider, String) async throws -> Void) async throws {
        let fake = FakeOAuthProvider()
        try await fake.application.test(.live) { provider in
            let base = "http://127.0.0.1:\(provider.port!)"
            try await UserServiceHarness.withApp([
                "PINGVAS_OAUTH_REDIRECT_BASE": "https://api.pingvas.test", "PINGVAS_OAUTH_GOOGLE_CLIENT_ID": "google-client",
                "PINGVAS_OAUTH_GOOGLE_CLIENT_SECRET": "google-secret", "PINGVAS_OAUTH_GOOGLE_DISCOVERY_URL": base + "/.well-known/openid-configuration",
                "PINGVAS_OAUTH_DISCORD_CLIENT_ID": "discord-client", "PINGVAS_OAUTH_DISCORD_CLIENT_SECRET": "discord-secret",
                "PINGVAS_OAUTH_DISCORD_URL": base,
            ]) { api in try await body(api, fake, base) }
        }
    }

    static func start(_ api: APIClient, _ provider: String) async throws -> Started {
        let response = try await api.get("/api/v1/auth/oauth/\(provider)/start")
        try #require(response.status == .found, "start: \(response.status) \(response.text)")
        let location = try #require(response.headers[.location].flatMap(URLComponents.init(string:)))
        let query = Dictionary(uniqueKeysWithValues: (location.queryItems ?? []).map { ($0.name, $0.value ?? "") })
        #expect(query["code_challenge_method"] == "S256")
        #expect(query["response_type"] == "code")
        return Started(
            state: try #require(query["state"]), nonce: query["nonce"], challenge: try #require(query["code_challenge"]),
            redirectURI: try #require(query["redirect_uri"]), location: location
        )
    }

    static func callback(_ api: APIClient, _ provider: String, code: String, state: String) async throws -> APIResponse {
        try await api.get("/api/v1/auth/oauth/\(provider)/callback?code=\(code)&state=\(state)")
    }

    /// A full Google login: start, the user approves at the fake with an ID token built by `token`, callback.
    static func googleLogin(
        _ api: APIClient, _ fake: FakeOAuthProvider, _ base: String, subject: String, email: String?, verified: Bool = true,
        audience: String = "google-client", nonce: ((String?) -> String?)? = nil, expiresIn: TimeInterval = 300
    ) async throws -> APIResponse {
        let started = try await start(api, "google")
        let code = "code-\(UUID().uuidString.prefix(8))"
        let idToken = try await FakeOAuthProvider.idToken(
            issuer: base, subject: subject, audience: audience, nonce: nonce.map { $0(started.nonce) } ?? started.nonce, email: email,
            verified: verified, expiresIn: expiresIn
        )
        fake.approve(code: code, .init(challenge: started.challenge, clientID: "google-client", idToken: idToken))
        return try await callback(api, "google", code: code, state: started.state)
    }

    static func email(_ name: String) -> String { "\(name)-\(UUID().uuidString.prefix(8).lowercased())@example.com" }

    @Test func googleCreatesAnAccountAndSignsTheSameUserInAgain() async throws {
        try await Self.withOAuth { api, fake, base in
            let started = try await Self.start(api, "google")
            #expect(started.location.path == "/authorize")
            #expect(started.redirectURI == "https://api.pingvas.test/api/v1/auth/oauth/google/callback")
            #expect(started.nonce?.isEmpty == false)

            let subject = "g-\(UUID())"
            let email = Self.email("gina")
            let first = try await Self.googleLogin(api, fake, base, subject: subject, email: email)
            #expect(first.status == .ok, "\(first.text)")
            #expect(first.headers[.cacheControl] == "no-store")
            let user = try #require(first.json["user"] as? [String: Any])
            #expect(user["email"] as? String == email)
            let id = try #require(user["id"] as? String)
            #expect(try await api.balance(of: .init(id: id, email: email, password: "", accessToken: "", refreshToken: "")) == 100)
            let again = try await Self.googleLogin(api, fake, base, subject: subject, email: email)
            #expect((again.json["user"] as? [String: Any])?["id"] as? String == id, "the same provider account, the same user")
        }
    }

    @Test func aVerifiedEmailLinksTheExistingAccount() async throws {
        try await Self.withOAuth { api, fake, base in
            let account = try await api.signup(email: Self.email("pat"))
            let login = try await Self.googleLogin(api, fake, base, subject: "g-\(UUID())", email: account.email)
            #expect(login.status == .ok, "\(login.text)")
            #expect((login.json["user"] as? [String: Any])?["id"] as? String == account.id)
        }
    }

    @Test func everyTamperedOrUnverifiedLoginIsRefusedAndCreatesNothing() async throws {
        try await Self.withOAuth { api, fake, base in
            // Tampered state.
            let started = try await Self.start(api, "google")
            let forged = try await Self.callback(api, "google", code: "whatever", state: started.state + "x")
            #expect(forged.status == .badRequest && forged.problemType == "invalid-oauth-state", "\(forged.text)")

            // A state works once; a code works once.
            let subject = "g-\(UUID())"
            let first = try await Self.start(api, "google")
            let code = "code-once"
            fake.approve(code: code, .init(challenge: first.challenge, clientID: "google-client", idToken: try await FakeOAuthProvider.idToken(
                issuer: base, subject: subject, nonce: first.nonce, email: Self.email("once"), verified: true)))
            #expect(try await Self.callback(api, "google", code: code, state: first.state).status == .ok)
            #expect(try await Self.callback(api, "google", code: code, state: first.state).problemType == "invalid-oauth-state")
            let second = try await Self.start(api, "google")
            let replayed = try await Self.callback(api, "google", code: code, state: second.state)
            #expect(replayed.status == .unauthorized && replayed.problemType == "oauth-failed", "\(replayed.text)")

            // Wrong nonce, wrong audience, expired: each refused, and nothing is created for its email.
            let cases: [(String, (APIClient, String) async throws -> APIResponse)] = [
                ("wrong nonce", { api, email in try await Self.googleLogin(api, fake, base, subject: "g-\(UUID())", email: email, nonce: { _ in "another-nonce" }) }),
                ("no nonce", { api, email in try await Self.googleLogin(api, fake, base, subject: "g-\(UUID())", email: email, nonce: { _ in nil }) }),
                ("wrong audience", { api, email in try await Self.googleLogin(api, fake, base, subject: "g-\(UUID())", email: email, audience: "someone-else") }),
                ("expired", { api, email in try await Self.googleLogin(api, fake, base, subject: "g-\(UUID())", email: email, expiresIn: -120) }),
            ]
            for (name, login) in cases {
                let email = Self.email("refused")
                let response = try await login(api, email)
                #expect(response.status == .unauthorized && response.problemType == "oauth-failed", "\(name): \(response.status) \(response.text)")
                let signup = try await api.post("/api/v1/auth/signup", json: ["email": email, "password": "correct horse battery", "display_name": "R"])
                #expect(signup.status == .created, "\(name): no account was created for \(email)")
            }

            // An unverified email neither creates an account nor links to an existing one.
            let unverified = try await Self.googleLogin(api, fake, base, subject: "g-\(UUID())", email: Self.email("new"), verified: false)
            #expect(unverified.status == .forbidden && unverified.problemType == "oauth-email-unverified", "\(unverified.text)")
            let owner = try await api.signup(email: Self.email("owner"))
            let attacker = "g-\(UUID())"
            let takeover = try await Self.googleLogin(api, fake, base, subject: attacker, email: owner.email, verified: false)
            #expect(takeover.status == .forbidden && takeover.problemType == "oauth-email-unverified")
            let stillNotLinked = try await Self.googleLogin(api, fake, base, subject: attacker, email: owner.email, verified: false)
            #expect(stillNotLinked.status == .forbidden, "the unverified attempt linked nothing")
        }
    }

    @Test func discordSignsInThroughItsUserEndpoint() async throws {
        try await Self.withOAuth { api, fake, base in
            let started = try await Self.start(api, "discord")
            #expect(started.location.path == "/oauth2/authorize")
            #expect(started.nonce == nil)
            let email = Self.email("dana")
            fake.approve(code: "discord-code", .init(
                challenge: started.challenge, clientID: "discord-client",
                discordUser: ["id": "80351110224678912", "email": email, "verified": true, "username": "dana"]
            ))
            let login = try await Self.callback(api, "discord", code: "discord-code", state: started.state)
            #expect(login.status == .ok, "\(login.text)")
            #expect((login.json["user"] as? [String: Any])?["email"] as? String == email)
            #expect(login.json["access_token"] is String && login.json["refresh_token"] is String)

            let wrongProvider = try await Self.start(api, "google")
            #expect(try await Self.callback(api, "discord", code: "x", state: wrongProvider.state).problemType == "invalid-oauth-state")
            #expect(try await api.get("/api/v1/auth/oauth/github/start").status == .notFound)
        }
    }
}
