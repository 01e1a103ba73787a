import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ServiceKit
import TestSupport
import Testing

@testable import UserService

/// Login throttling per account, fail-closed logins, token responses kept out of caches, and
/// password changes that end other sessions.
@Suite(.timeLimit(.minutes(2))) struct AccountHygieneTests {
    @Test func wrongPasswordsLockTheAccountAndTheRightOneWorksAfterTheWindow() async throws {
        try await UserServiceHarness.withApp(adjust: {
            $0.loginThrottle = LoginThrottle.Policy(freeFailures: 3, baseLockout: .milliseconds(400), maxLockout: .seconds(1))
        }) { api in
            let account = try await api.signup()
            var statuses: [Int] = []
            for attempt in 0..<30 {
                // Different client addresses change nothing: the count is per account.
                let response = try await api.post(
                    "/api/v1/auth/login", json: ["email": account.email, "password": "wrong-\(attempt)"],
                    headers: [HTTPField.Name("X-Forwarded-For")!: "203.0.113.\(attempt)"]
                )
                statuses.append(response.status.code)
                if response.status == .tooManyRequests {
                    #expect(response.problemType == "login-throttled")
                    let retryAfter = try #require(response.headers[.retryAfter].flatMap(Int.init))
                    #expect((1...1).contains(retryAfter))
                }
            }
            #expect(statuses.prefix(2) == [401, 401])
            #expect(statuses[2] == 429, "the third failure locks the account: \(statuses)")
            #expect(statuses.dropFirst(2).allSatisfy { $0 == 429 }, "\(statuses)")

            let rightPassword: [String: any Sendable] = ["email": account.email, "password": account.password]
            #expect(try await api.post("/api/v1/auth/login", json: rightPassword).status == .tooManyRequests, "locked means locked")
            let login = try await eventuallyValue(timeout: .seconds(10), pollEvery: .milliseconds(100), "the lockout ends") {
                let response = try await api.post("/api/v1/auth/login", json: rightPassword)
                return response.status == .ok ? response : nil
            }
            #expect(login.headers[.cacheControl] == "no-store")
            // A success clears the count: the next mistake is an ordinary 401.
            #expect(try await api.post("/api/v1/auth/login", json: ["email": account.email, "password": "wrong"]).status == .unauthorized)
        }
    }

    @Test func tokenResponsesAreNotStored() async throws {
        try await UserServiceHarness.withApp { api in
            let email = "nostore-\(UUID().uuidString.prefix(8).lowercased())@example.com"
            let signup = try await api.post("/api/v1/auth/signup", json: ["email": email, "password": "correct horse battery", "display_name": "N"])
            #expect(signup.status == .created)
            #expect(signup.headers[.cacheControl] == "no-store")
            let refresh = try await api.post("/api/v1/auth/refresh", json: ["refresh_token": signup.json["refresh_token"] as? String ?? ""])
            #expect(refresh.status == .ok)
            #expect(refresh.headers[.cacheControl] == "no-store")
        }
    }

    @Test func changingThePasswordEndsOtherSessions() async throws {
        try await UserServiceHarness.withApp { api in
            let account = try await api.signup()
            let other = try await api.post("/api/v1/auth/login", json: ["email": account.email, "password": account.password])
            let otherRefresh = try #require(other.json["refresh_token"] as? String)

            let wrong = try await api.post(
                "/api/v1/me/password", json: ["current_password": "not-it-at-all", "new_password": "a new horse battery"], headers: account.identity)
            #expect(wrong.status == .forbidden)
            let changed = try await api.post(
                "/api/v1/me/password", json: ["current_password": account.password, "new_password": "a new horse battery"], headers: account.identity)
            #expect(changed.status == .noContent)

            for token in [account.refreshToken, otherRefresh] {
                #expect(try await api.post("/api/v1/auth/refresh", json: ["refresh_token": token]).status == .unauthorized)
            }
            #expect(try await api.post("/api/v1/auth/login", json: ["email": account.email, "password": account.password]).status == .unauthorized)
            #expect(try await api.post("/api/v1/auth/login", json: ["email": account.email, "password": "a new horse battery"]).status == .ok)
        }
    }

    @Test func loginFailsClosedWithoutRedis() async throws {
        let deadRedis = "redis://127.0.0.1:\(try TestStack.freePort())"
        let configuration = try UserServiceHarness.configuration(["PINGVAS_REDIS_URL": deadRedis])
        let app = try await buildApplication(configuration: configuration)
        try await app.test(.router) { client in
            let api = APIClient(client: client)
            // Signup needs only PostgreSQL; it answers once the migrations are applied.
            let email = "closed-\(UUID().uuidString.prefix(8).lowercased())@example.com"
            try await eventually(timeout: .seconds(20), pollEvery: .milliseconds(100), "signup works (migrations applied)") {
                try await api.post("/api/v1/auth/signup", json: ["email": email, "password": "correct horse battery", "display_name": "C"]).status
                    == .created
            }
            let login = try await api.post("/api/v1/auth/login", json: ["email": email, "password": "correct horse battery"])
            #expect(login.status == .serviceUnavailable)
            #expect(login.problemType == "dependency-unavailable")
            #expect(login.headers[.retryAfter] != nil)
        }
    }
}
