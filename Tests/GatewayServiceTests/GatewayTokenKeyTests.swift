import Core
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PingvasCrypto
import ServiceKit
import Synchronization
import TestSupport
import Testing
@testable import GatewayService

/// The gateway verifies EdDSA access tokens with the keys user publishes, holds no signing key,
/// and follows a key rotation without refusing any valid token.
@Suite(.timeLimit(.minutes(2))) struct GatewayTokenKeyTests {
    /// The seeds of the keys the fake user publishes; the test changes them.
    final class Published: Sendable {
        let seeds: Mutex<[String]>
        init(_ seeds: [String]) { self.seeds = Mutex(seeds) }
        func set(_ new: [String]) { seeds.withLock { $0 = new } }
    }

    /// A fake user whose published key set the test changes.
    static func keyServer(_ published: Published) -> some ApplicationProtocol {
        let router = Router()
        router.get("/internal/jwks") { _, _ -> Response in
            let body = try testJWKS(seeds: published.seeds.withLock { $0 })
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
        }
        router.get("/api/v1/me") { request, _ -> Response in
            Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: request.headers[HTTPField.Name("X-User-Id")!] ?? "")))
        }
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }

    @Test func aRotationKeepsOldAndNewTokensValidThenRetiresTheOld() async throws {
        let seeds = Published(["key-2026-a"])
        try await Self.keyServer(seeds).test(.live) { user in
            var environment = [
                "PINGVAS_REDIS_URL": try TestStack.shared().redisURL, "PINGVAS_INTERNAL_SECRET": testInternalSecret, "PINGVAS_HOST": "127.0.0.1",
                "PINGVAS_PORT": "0", "PINGVAS_UPSTREAM_TIMEOUT": "2s",
            ]
            for upstream in Upstream.allCases { environment[upstream.configurationKey] = "http://127.0.0.1:\(user.port!)" }
            var reader = ConfigurationReader(environment: environment)
            var configuration = GatewayConfiguration(reader: &reader)
            try reader.validate()
            configuration.jwksRefreshInterval = .milliseconds(300)
            try await buildApplication(configuration: configuration).test(.router) { client in
                func me(_ token: String) async throws -> HTTPResponse.Status {
                    try await client.execute(uri: "/api/v1/me", method: .get, headers: [.authorization: "Bearer \(token)"]) { $0.status }
                }
                let alice = UserID()
                let old = try await testAccessToken(userID: alice.description, seed: "key-2026-a")
                let new = try await testAccessToken(userID: alice.description, seed: "key-2026-b")
                #expect(try await me(old) == .ok)

                // The switch: user publishes both and signs with the new one; both kinds of token work at once.
                seeds.set(["key-2026-b", "key-2026-a"])
                #expect(try await me(new) == .ok, "an unknown key id makes the gateway fetch the keys again")
                #expect(try await me(old) == .ok)

                // The old key retired: its tokens are refused once the gateway has refreshed.
                seeds.set(["key-2026-b"])
                try await eventually(timeout: .seconds(5), pollEvery: .milliseconds(100), "the retired key's tokens are refused") {
                    try await me(old) == .unauthorized
                }
                #expect(try await me(new) == .ok)

                #expect(try await me(try await testAccessToken(userID: alice.description, seed: "stranger")) == .unauthorized, "a key user does not publish")
                // An HS256 token, even one signed with the internal secret, is no access token.
                let hs256 = try await TokenSigner(key: .hmac(secret: testInternalSecret), issuer: "pingvas-user", audience: "pingvas")
                    .sign(TokenSigner.makeAccessClaims(userID: alice.description, roles: ["admin"], plan: "studio"))
                #expect(try await me(hs256) == .unauthorized)
            }
        }
    }
}
