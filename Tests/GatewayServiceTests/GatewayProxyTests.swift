import Core
import Foundation
import HTTPClient
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import PingvasCrypto
import ServiceKit
import TestSupport
import Testing
@testable import GatewayService

/// The gateway against a real upstream server on loopback and the real Redis.
@Suite(.timeLimit(.minutes(2))) struct GatewayProxyTests {

    /// An upstream that echoes what it received, streams slowly, or stalls.
    static func upstream() -> some ApplicationProtocol {
        let router = Router()
        router.post("/api/v1/auth/signup") { _, _ -> Response in Response(status: .created) }
        router.on("/api/**", method: .get) { request, _ -> Response in
            if request.uri.path.hasSuffix("/slow") { try await Task.sleep(for: .seconds(3)) }
            var echoed: [String: String] = [:]
            for field in request.headers { echoed[field.name.canonicalName.lowercased()] = field.value }
            echoed["path"] = request.uri.path
            echoed["query"] = request.uri.query ?? ""
            let data = try JSONSerialization.data(withJSONObject: echoed)
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
        // user's key set, which the gateway verifies access tokens with.
        router.get("/internal/jwks") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: try testJWKS())))
        }
        router.get("/webhooks/stream") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/event-stream"], body: ResponseBody { writer in
                for index in 1...3 {
                    try await writer.write(ByteBuffer(string: "event: progress\ndata: {\"step\":\(index)}\n\n"))
                    try await Task.sleep(for: .milliseconds(400))
                }
                try await writer.finish(nil)
            })
        }
        router.post("/webhooks/echo") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            return Response(status: .ok, body: .init(byteBuffer: body))
        }
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }

    static func gateway(
        upstreamPort: Int, extra: [String: String] = [:], requestHeadTimeout: Duration? = nil,
        adjust: (inout GatewayConfiguration) -> Void = { _ in }
    ) async throws -> some ApplicationProtocol {
        let servers = try TestStack.shared()
        var environment = [
            "PINGVAS_REDIS_URL": servers.redisURL, "PINGVAS_INTERNAL_SECRET": testInternalSecret,  "PINGVAS_HOST": "127.0.0.1", "PINGVAS_PORT": "0",
            "PINGVAS_UPSTREAM_TIMEOUT": "500ms", "PINGVAS_MAX_BODY_BYTES": "1024", "PINGVAS_CORS_ORIGINS": "https://app.example",
        ]
        for upstream in Upstream.allCases { environment[upstream.configurationKey] = "http://127.0.0.1:\(upstreamPort)" }
        environment.merge(extra) { _, new in new }
        var reader = ConfigurationReader(environment: environment)
        var configuration = GatewayConfiguration(reader: &reader)
        try reader.validate()
        if let requestHeadTimeout { configuration.service.requestHeadTimeout = requestHeadTimeout }
        adjust(&configuration)
        return try await buildApplication(configuration: configuration)
    }

    static func token(plan: Plan = .pro, userID: UserID = UserID(), lifetime: Duration = .seconds(600)) async throws -> String {
        try await testAccessToken(userID: userID.description, plan: plan.rawValue, lifetime: lifetime)
    }

    static func json(_ response: TestResponse) -> [String: String] {
        (try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))) as? [String: String] ?? [:]
    }

    @Test func verifiedIdentityReplacesWhateverTheClientSent() async throws {
        let user = UserID()
        let token = try await Self.token(plan: .studio, userID: user)
        try await Self.upstream().test(.live) { upstream in
            try await Self.gateway(upstreamPort: upstream.port!).test(.router) { client in
                let forged = HTTPFields.identity(UUID(), roles: "admin").merging([.authorization: "Bearer \(token)", .requestID: "client-req-1"])
                try await client.execute(uri: "/api/v1/generations?limit=5", method: .get, headers: forged) { response in
                    #expect(response.status == .ok)
                    let echoed = Self.json(response)
                    #expect(echoed["x-user-id"] == user.description)
                    #expect(echoed["x-user-roles"] == "user")
                    #expect(echoed["x-user-plan"] == "studio")
                    let trust = InternalTrust(secret: testInternalSecret, serviceID: "user")
                    let signature = try #require(echoed["x-user-signature"], "the forwarded identity is signed")
                    #expect(trust.verifyIdentity(userID: user.description, roles: "user", plan: "studio", signature: signature))
                    #expect(!trust.verifyIdentity(userID: user.description, roles: "admin", plan: "studio", signature: signature))
                    #expect(echoed["authorization"] == nil, "the token stays at the gateway")
                    #expect(echoed["x-request-id"] == "client-req-1")
                    #expect(echoed["traceparent"]?.hasPrefix("00-") == true)
                    #expect(echoed["query"] == "limit=5")
                    #expect(response.headers[.requestID] == "client-req-1")
                    #expect(response.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
                }
            }
        }
    }

    @Test func tokensAreCheckedWhereTheRouteNeedsThem() async throws {
        let expired = try await Self.token(lifetime: .seconds(-60))
        try await Self.upstream().test(.live) { upstream in
            try await Self.gateway(upstreamPort: upstream.port!).test(.router) { client in
                try await client.execute(uri: "/api/v1/me", method: .get, headers: [.origin: "https://app.example"]) { response in
                    #expect(response.status == .unauthorized)
                    #expect(response.headers[.contentType] == "application/problem+json")
                    #expect(response.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff", "error responses carry the security headers")
                    #expect(response.headers[.accessControlAllowOrigin] == "https://app.example", "and CORS, so a browser can read the error")
                }
                try await client.execute(uri: "/api/v1/me", method: .get, headers: [.authorization: "Bearer \(expired)"]) { response in
                    #expect(response.status == .unauthorized)
                    #expect(String(buffer: response.body).contains("invalid-token"))
                }
                try await client.execute(uri: "/api/v1/me", method: .get, headers: [.authorization: "Basic abc"]) { response in
                    #expect(response.status == .unauthorized)
                }
                // public routes ignore a stale token; optional routes work without one
                try await client.execute(uri: "/api/v1/auth/whatever", method: .get, headers: [.authorization: "Bearer \(expired)"]) { response in
                    #expect(response.status == .ok)
                    #expect(Self.json(response)["x-user-id"] == nil)
                }
                try await client.execute(uri: "/api/v1/models", method: .get) { response in
                    #expect(response.status == .ok)
                }
                try await client.execute(uri: "/internal/credits/holds", method: .get) { response in
                    #expect(response.status == .notFound)
                }
            }
        }
    }

    @Test func bodyLimitTimeoutAndDeadUpstreamAreProblems() async throws {
        let token = try await Self.token()
        try await Self.upstream().test(.live) { upstream in
            try await Self.gateway(upstreamPort: upstream.port!).test(.router) { client in
                try await client.execute(uri: "/webhooks/echo", method: .post, body: ByteBuffer(string: "small")) { response in
                    #expect(response.status == .ok)
                    #expect(String(buffer: response.body) == "small")
                }
                try await client.execute(uri: "/webhooks/echo", method: .post, body: ByteBuffer(repeating: 0x41, count: 4096)) { response in
                    #expect(response.status == .contentTooLarge)
                    #expect(String(buffer: response.body).contains("payload-too-large"))
                }
                try await client.execute(uri: "/api/v1/models/slow", method: .get, headers: [.authorization: "Bearer \(token)"]) { response in
                    #expect(response.status == .gatewayTimeout)
                    #expect(String(buffer: response.body).contains("upstream-timeout"))
                }
            }
        }
        let deadPort = try TestStack.freePort()
        try await Self.gateway(upstreamPort: deadPort).test(.router) { client in
            try await client.execute(uri: "/api/v1/models", method: .get) { response in
                #expect(response.status == .badGateway)
                #expect(String(buffer: response.body).contains("upstream-unavailable"))
            }
        }
    }

    @Test func rateLimitAnswers429WithRetryAfter() async throws {
        try await Self.upstream().test(.live) { upstream in
            // a per-IP limit unique to this test run, so parallel tests do not share its window
            try await Self.gateway(upstreamPort: upstream.port!, extra: ["PINGVAS_RATE_LIMIT_PER_USER": "3"]).test(.router) { client in
                let token = try await Self.token()
                var statuses: [HTTPResponse.Status] = []
                var retryAfter: String?
                for _ in 0..<5 {
                    try await client.execute(uri: "/api/v1/models", method: .get, headers: [.authorization: "Bearer \(token)"]) { response in
                        statuses.append(response.status)
                        if response.status == .tooManyRequests { retryAfter = response.headers[.retryAfter] }
                    }
                }
                #expect(statuses.prefix(3).allSatisfy { $0 == .ok })
                #expect(statuses.suffix(2).allSatisfy { $0 == .tooManyRequests })
                let seconds = try #require(retryAfter.flatMap(Int.init))
                #expect((1...60).contains(seconds))
            }
        }
    }

    @Test func serverSentEventsStreamThroughUnbuffered() async throws {
        let token = try await Self.token()
        try await Self.upstream().test(.live) { upstream in
            try await Self.gateway(upstreamPort: upstream.port!).test(.live) { gateway in
                let http = CurlHTTPClient(logger: Logger(label: "test"))
                let started = ContinuousClock.now
                let response = try await http.stream(HTTPClientRequest(
                    url: "http://127.0.0.1:\(gateway.port!)/webhooks/stream", headers: ["Authorization": "Bearer \(token)"]
                ))
                #expect(response.status == 200)
                var arrivals: [Duration] = []
                var text = ""
                for try await chunk in response.body {
                    arrivals.append(ContinuousClock.now - started)
                    text += String(decoding: chunk, as: UTF8.self)
                }
                #expect(text.components(separatedBy: "event: progress").count == 4)
                // The upstream writes its three events 400 ms apart; buffered, they would all arrive together.
                let first = try #require(arrivals.first)
                #expect(arrivals.last! - first > .milliseconds(200), "events arrived at \(arrivals)")
                await http.shutdown()
            }
        }
    }

    @Test func signupsAreLimitedPerNetwork() async throws {
        // A network of its own for this run: the hour's counter is shared through Redis.
        let net = "10.\(Int.random(in: 0...255)).\(Int.random(in: 0...255))"
        try await Self.upstream().test(.live) { upstream in
            try await Self.gateway(
                upstreamPort: upstream.port!, extra: ["PINGVAS_TRUSTED_PROXY_HOPS": "1", "PINGVAS_UPSTREAM_TIMEOUT": "10s"], adjust: { $0.signupsPerNetwork = 2 }
            ).test(.router) {
                client in
                func signup(from address: String) async throws -> TestResponse {
                    try await client.execute(
                        uri: "/api/v1/auth/signup", method: .post, headers: [HTTPField.Name("X-Forwarded-For")!: address, .contentType: "application/json"],
                        body: ByteBuffer(string: "{}")
                    ) { $0 }
                }
                #expect(try await signup(from: "\(net).1").status == .created)
                #expect(try await signup(from: "\(net).2").status == .created)
                let third = try await signup(from: "\(net).200")
                #expect(third.status == .tooManyRequests, "the third signup from the same /24 within the hour")
                #expect((1...3600).contains(third.headers[.retryAfter].flatMap(Int.init) ?? 0))
                #expect(try await signup(from: "198.18.\(Int.random(in: 0...255)).9").status == .created, "another network is not affected")
                #expect(try await client.execute(uri: "/api/v1/models", method: .get, headers: [HTTPField.Name("X-Forwarded-For")!: "\(net).3"]) { $0.status } == .ok,
                        "only signups are limited per network")
            }
        }
    }

    @Test(arguments: [
        ("203.0.113.77", "203.0.113.0/24"), ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"), ("2001:db8::1", "2001:db8:0:0::/64"),
        ("::1", "0:0:0:0::/64"), ("unknown", "unknown"),
    ])
    func networksOfAddresses(address: String, network: String) {
        #expect(ProxyController.network(of: address) == network)
    }
}
