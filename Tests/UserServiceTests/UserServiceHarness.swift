import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ServiceKit
import TestSupport
import Testing

@testable import UserService

/// Builds the real user service against the shared test PostgreSQL and Redis, in a schema of its own.
enum UserServiceHarness {

    static func configuration(_ overrides: [String: String] = [:]) throws -> UserConfiguration {
        let stack = try TestStack.shared()
        var environment = [
            "PINGVAS_DATABASE_URL": stack.databaseURL,
            "PINGVAS_REDIS_URL": stack.redisURL,
            "PINGVAS_INTERNAL_SECRET": testInternalSecret,
            "PINGVAS_DB_SCHEMA": TestStack.uniqueName("usertest"),
            "PINGVAS_JWT_SIGNING_KEY": testJWTSigningKey(),
            "PINGVAS_PASSWORD_HASH_COST": "10",
            "PINGVAS_DB_POOL_SIZE": "10",
            "PINGVAS_HOST": "127.0.0.1",
            "PINGVAS_PORT": "0",
        ]
        environment.merge(overrides) { _, new in new }
        var reader = ConfigurationReader(environment: environment)
        let configuration = UserConfiguration(reader: &reader)
        try reader.validate()
        return configuration
    }

    /// Runs `body` against a fresh application once its migrations are applied (`/readyz` is 200).
    static func withApp(
        _ overrides: [String: String] = [:], adjust: (inout UserConfiguration) -> Void = { _ in },
        _ body: @escaping @Sendable (APIClient) async throws -> Void
    ) async throws {
        var configuration = try configuration(overrides)
        adjust(&configuration)
        let app = try await buildApplication(configuration: configuration)
        try await app.test(.router) { client in
            try await client.waitUntilReady()
            try await body(APIClient(client: client))
        }
    }
}

/// A JSON response: status, headers, and the body parsed as an object (empty when it is not one).
struct APIResponse: Sendable {
    var status: HTTPResponse.Status
    var headers: HTTPFields
    var text: String

    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }

    /// The problem `type` slug (`email-taken`, ...), or nil when the body is not a problem.
    var problemType: String? {
        (json["type"] as? String).map { $0.replacingOccurrences(of: Problem.typeBase, with: "") }
    }
}

/// Thin helpers over the router test client.
struct APIClient: Sendable {
    let client: any TestClientProtocol

    func get(_ uri: String, headers: HTTPFields = [:]) async throws -> APIResponse {
        try await send(uri, method: .get, headers: headers, body: nil)
    }

    func post(_ uri: String, json: [String: any Sendable], headers: HTTPFields = [:]) async throws -> APIResponse {
        let data = try JSONSerialization.data(withJSONObject: json)
        return try await send(uri, method: .post, headers: headers, body: String(decoding: data, as: UTF8.self))
    }

    func post(_ uri: String, raw: String?, headers: HTTPFields = [:]) async throws -> APIResponse {
        try await send(uri, method: .post, headers: headers, body: raw)
    }

    func send(_ uri: String, method: HTTPRequest.Method, headers: HTTPFields, body: String?) async throws -> APIResponse {
        var headers = headers
        if body != nil { headers[.contentType] = "application/json" }
        // Internal routes are called by services, which carry their credential (tests that must not use `client`).
        if uri.hasPrefix("/internal/") { headers = HTTPFields.serviceCredential().merging(headers) }
        let response = try await client.executeRequest(
            uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) })
        return APIResponse(status: response.status, headers: response.headers, text: String(buffer: response.body))
    }

    // MARK: - Domain shortcuts

    struct Account: Sendable {
        var id: String
        var email: String
        var password: String
        var accessToken: String
        var refreshToken: String

        var identity: HTTPFields { .identity(id) }
    }

    /// Signs a new user up (expects 201).
    func signup(email: String? = nil, password: String = "correct horse battery", displayName: String = "Test User") async throws -> Account {
        let email = email ?? "\(UUID().uuidString.prefix(8).lowercased())@example.com"
        let response = try await post(
            "/api/v1/auth/signup", json: ["email": email, "password": password, "display_name": displayName])
        try #require(response.status == .created, "signup failed: \(response.status) \(response.text)")
        let body = response.json
        let user = try #require(body["user"] as? [String: Any])
        return Account(
            id: try #require(user["id"] as? String), email: try #require(user["email"] as? String), password: password,
            accessToken: try #require(body["access_token"] as? String), refreshToken: try #require(body["refresh_token"] as? String)
        )
    }

    func balance(of account: Account) async throws -> Int {
        let response = try await get("/api/v1/me", headers: account.identity)
        try #require(response.status == .ok, "GET /me failed: \(response.status) \(response.text)")
        return try #require(response.json["credits"] as? Int)
    }

    func hold(_ account: Account, job: String, amount: Int) async throws -> APIResponse {
        try await post("/internal/credits/holds", json: ["user_id": account.id, "job_id": job, "amount": amount])
    }
}

/// A fresh job id in wire form.
func newJobID() -> String { UUID().uuidString.lowercased() }
