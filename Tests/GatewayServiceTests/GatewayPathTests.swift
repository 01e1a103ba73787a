import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ServiceKit
import TestSupport
import Testing
@testable import GatewayService

/// Path tricks against the real gateway over TCP, with an upstream on loopback that records every
/// request it gets: none of them may reach it, least of all an `/internal/*` route.
@Suite(.timeLimit(.minutes(2))) struct GatewayPathTests {
    /// Every path an upstream received, in order.
    actor Recorder {
        private(set) var paths: [String] = []
        func record(_ path: String) { paths.append(path) }
    }

    static func recordingUpstream(_ recorder: Recorder) -> some ApplicationProtocol {
        let router = Router()
        for method: HTTPRequest.Method in [.get, .post] {
            router.on("/**", method: method) { request, _ -> Response in
                await recorder.record(request.uri.path)
                return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: "{\"echo\":true}")))
            }
        }
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }

    /// (request target, what the gateway must answer). Each aims at the user service's
    /// unauthenticated-by-network `/internal/credits/grants` or some other route it must not reach.
    static let tricks: [(String, Int)] = [
        ("/api/v1/auth/%2e%2e/%2e%2e/%2e%2e/internal/credits/grants", 400),
        ("/api/v1/auth/%2E%2E/%2E%2E/%2E%2E/internal/credits/grants", 400),
        ("/api/v1/auth/%2e%2E/%2E%2e/%2e%2e/internal/credits/grants", 400),
        ("/api/v1/auth/.%2e/.%2e/.%2e/internal/credits/grants", 400),
        ("/api/v1/auth/%2e./%2e./%2e./internal/credits/grants", 400),
        ("/api/v1/auth/../../../internal/credits/grants", 400),
        ("/api/v1/auth/./../../../internal/credits/grants", 400),
        ("/api/v1/auth/login/..", 400),
        ("/api/v1/auth%2f..%2f..%2f..%2finternal/credits/grants", 400),
        ("/api/v1/auth/..%2F..%2F..%2Finternal%2Fcredits%2Fgrants", 400),
        ("/api/v1/auth/..%5c..%5c..%5cinternal%5ccredits%5cgrants", 400),
        ("/api/v1/auth/..%5C..%5C..%5Cinternal", 400),
        ("/api/v1/auth\\..\\..\\..\\internal\\credits\\grants", 400),
        ("/api/v1/auth/%00/../../../internal/credits/grants", 400),
        ("/api/v1/auth/login%00.json", 400),
        ("/api/v1/auth/%0a/internal", 400),
        ("//internal/credits/grants", 400),
        ("/api/v1/auth//..//..//..//internal/credits/grants", 400),
        ("/api//v1/auth/login", 400),
        ("/api/v1/auth/login;/../../../internal/credits/grants", 400),
        ("/api/v1/auth;x=1/login", 400),
        ("/api/v1/me/..;/..;/..;/internal/credits/grants", 400),
        ("/api/v1/auth/%3b/../internal", 400),
        ("/api/v1/auth/%c0%ae%c0%ae/%c0%ae%c0%ae/%c0%ae%c0%ae/internal/credits/grants", 400),
        ("/api/v1/auth/%c0%af..%c0%af..%c0%afinternal", 400),
        ("/api/v1/auth/%e0%80%ae%e0%80%ae/%e0%80%ae%e0%80%ae/internal", 400),
        ("/api/v1/auth/%ef%bc%8e%ef%bc%8e/%ef%bc%8e%ef%bc%8e/internal", 400),
        ("/api/v1/auth/%ff%fe", 400),
        ("/api/v1/auth/%ed%a0%80", 400),
        ("/api/v1/auth/%252e%252e/%252e%252e/%252e%252e/internal/credits/grants", 400),
        ("/api/v1/auth/%2", 400),
        ("/api/v1/auth/%zz/login", 400),
        ("/%69nternal/credits/grants", 400),
        ("/api/v1/%61uth/login", 400),
        ("/webhooks/..%2f..%2finternal/credits/grants", 400),
        ("/webhooks/%2e%2e/internal/credits/grants", 400),
        ("/internal/credits/grants", 404),
        ("/INTERNAL/credits/grants", 404),
        ("/api/v1/internal/credits/grants", 404),
        ("/api/v1/AUTH/login", 404),
        ("/api/v1/meh", 404),
        ("/api/v2/auth/login", 404),
    ]

    @Test func pathTricksAreRefusedBeforeAnyUpstreamSeesThem() async throws {
        #expect(Self.tricks.count >= 30)
        let recorder = Recorder()
        try await Self.recordingUpstream(recorder).test(.live) { upstream in
            try await GatewayProxyTests.gateway(upstreamPort: upstream.port!).test(.live) { gateway in
                let port = gateway.port!
                for (target, expected) in Self.tricks {
                    for method in ["GET", "POST"] {
                        let reply = try await RawHTTP.request(port: port, method: method, target: target, body: "{\"user_id\":\"x\",\"amount\":1000}")
                        #expect(reply.status == expected, "\(method) \(target) answered \(reply.status.map(String.init) ?? "nothing")")
                        if expected == 400 {
                            #expect(reply.text.contains("https://pingvas.studio/problems/invalid-path"), "\(method) \(target): \(reply.text)")
                        } else {
                            #expect(reply.text.contains("https://pingvas.studio/problems/not-found"), "\(method) \(target): \(reply.text)")
                        }
                    }
                }
                #expect(await recorder.paths == [], "no trick may reach an upstream")

                // The upstream is reachable, and gets exactly the canonical path (escapes in uppercase hex).
                let login = try await RawHTTP.request(port: port, method: "POST", target: "/api/v1/auth/login?next=%2e%2e", body: "{}")
                #expect(login.status == 200)
                let accented = try await RawHTTP.request(port: port, target: "/api/v1/auth/caf%c3%a9")
                #expect(accented.status == 200)
                #expect(await recorder.paths == ["/api/v1/auth/login", "/api/v1/auth/caf%C3%A9"])
            }
        }
    }

    @Test(arguments: [
        ("/api/v1/me", "/api/v1/me"), ("/api/v1/me/", "/api/v1/me/"), ("/", "/"), ("/api/v1/images/a%20b", "/api/v1/images/a%20b"),
        ("/api/v1/images/%e2%9c%93", "/api/v1/images/%E2%9C%93"), ("/api/v1/images/x:y@z", "/api/v1/images/x:y@z"),
    ])
    func canonicalPathsPassUnchanged(raw: String, canonical: String) throws {
        #expect(try CanonicalPath.canonicalize(raw).get() == canonical)
    }

    @Test func aClientThatNeverFinishesItsRequestHeadIsDisconnected() async throws {
        let recorder = Recorder()
        try await Self.recordingUpstream(recorder).test(.live) { upstream in
            try await GatewayProxyTests.gateway(upstreamPort: upstream.port!, requestHeadTimeout: .milliseconds(500)).test(.live) { gateway in
                // Half a request head, then nothing: the gateway hangs up after its head timeout (0.5 s
                // here), long before its idle timeout (75 s) would; the bound leaves room for a loaded machine.
                let partial = try await RawHTTP.exchange(
                    port: gateway.port!, send: Array("GET /api/v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ".utf8), timeout: .seconds(30)
                )
                #expect(partial.closedByServer, "the connection should be closed, waited \(partial.elapsed)")
                #expect(partial.elapsed < .seconds(20), "closed after \(partial.elapsed)")
                #expect(await recorder.paths == [])
                // A whole request on a fresh connection is answered as usual.
                let whole = try await RawHTTP.request(port: gateway.port!, target: "/healthz")
                #expect(whole.status == 200)
            }
        }
    }
}
