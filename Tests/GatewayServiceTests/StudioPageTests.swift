import Foundation
import ServiceKit
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import TestSupport
import Testing
@testable import GatewayService

/// The gateway serves the studio page (web/studio/, compiled in) at `/` with strict headers and
/// ETag revalidation, without touching the API's routes.
@Suite(.timeLimit(.minutes(2))) struct StudioPageTests {
    static func withGateway(_ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        try await GatewayProxyTests.upstream().test(.live) { upstream in
            try await GatewayProxyTests.gateway(upstreamPort: upstream.port!).test(.router) { client in
                try await body(client)
            }
        }
    }

    static func committed(_ name: String) throws -> String {
        try String(contentsOf: TestStack.repositoryRoot.appendingPathComponent("web/studio/\(name)"), encoding: .utf8)
    }

    @Test func theRootIsTheStudioPageWithStrictHeaders() async throws {
        let page = try Self.committed("index.html")
        try await Self.withGateway { client in
            try await client.execute(uri: "/", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                #expect(String(buffer: response.body) == page, "the gateway's copy differs from web/studio/: run python3 scripts/studio.py")
                let csp = try #require(response.headers[.contentSecurityPolicy])
                let directives = Dictionary(
                    csp.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }.map { directive in
                        let parts = directive.split(separator: " ", maxSplits: 1).map(String.init)
                        return (parts[0], parts.count > 1 ? parts[1] : "")
                    }, uniquingKeysWith: { first, _ in first })
                #expect(directives["default-src"] == "'none'")
                #expect(directives["script-src"] == "'self'", "scripts from the gateway only, never inline: \(csp)")
                #expect(directives["style-src"] == "'self'", "styles from the gateway only, never inline: \(csp)")
                #expect(directives["frame-ancestors"] == "'none'")
                #expect(directives["connect-src"] == "'self'", "the page talks to its own gateway only: \(csp)")
                #expect(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"))
                #expect(response.headers[.xContentTypeOptions] == "nosniff")
                #expect(response.headers[HTTPField.Name("Referrer-Policy")!] == "no-referrer")
                #expect(response.headers[HTTPField.Name("X-Frame-Options")!] == "DENY")
                #expect(response.headers[.cacheControl] == "no-cache", "revalidated, so a new gateway's page is used at once")
            }
        }
    }

    @Test func thePageLoadsNothingFromElsewhereAndHasNoInlineCode() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: TestStack.repositoryRoot.appendingPathComponent("web/studio").path)
        #expect(Set(files.filter { !$0.hasPrefix(".") }) == Set(StudioAssets.files.keys), "every file of web/studio/ is compiled in")
        for name in files where !name.hasPrefix(".") {
            let text = try Self.committed(name)
            for external in ["http://", "https://", "//cdn", "@import url("] where !(name.hasSuffix(".svg") && external == "http://") {
                #expect(!text.contains(external), "\(name) refers to another origin: \(external)")
            }
        }
        let page = try Self.committed("index.html")
        #expect(!page.contains("style=\""), "no inline style attributes")
        #expect(page.range(of: #"\son[a-z]+\s*="#, options: .regularExpression) == nil, "no inline event handlers")
        let scripts = page.components(separatedBy: "<script").dropFirst()
        #expect(scripts.count == 1)
        #expect(scripts.allSatisfy { $0.hasPrefix(" type=\"module\" src=\"/studio/") }, "only the module from the gateway: \(scripts)")
        #expect(!page.contains("<style"))
    }

    @Test func aMatchingETagIsNotModified() async throws {
        try await Self.withGateway { client in
            var etag = ""
            try await client.execute(uri: "/studio/app.js", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/javascript; charset=utf-8")
                etag = try #require(response.headers[.eTag])
                #expect(etag.hasPrefix("\"") && etag.hasSuffix("\"") && etag.count == 34, "a strong tag: \(etag)")
            }
            try await client.execute(uri: "/studio/app.js", method: .get, headers: [.ifNoneMatch: etag]) { response in
                #expect(response.status == .notModified)
                #expect(response.body.readableBytes == 0)
                #expect(response.headers[.eTag] == etag)
                #expect(response.headers[.contentSecurityPolicy] != nil)
            }
            try await client.execute(uri: "/studio/app.js", method: .get, headers: [.ifNoneMatch: "\"other\", W/\(etag)"]) { response in
                #expect(response.status == .notModified, "a list, and the weak comparison, as RFC 9110 says")
            }
            try await client.execute(uri: "/studio/app.js", method: .get, headers: [.ifNoneMatch: "\"stale\""]) { response in
                #expect(response.status == .ok)
                let committed = try Self.committed("app.js")
                #expect(String(buffer: response.body) == committed)
            }
            try await client.execute(uri: "/studio/studio.css", method: .get, headers: [.ifNoneMatch: etag]) { response in
                #expect(response.status == .ok, "another file's tag does not match")
                #expect(response.headers[.contentType] == "text/css; charset=utf-8")
                #expect(response.headers[.eTag] != etag)
            }
        }
    }

    @Test func unknownFilesAreProblemsNotPages() async throws {
        try await Self.withGateway { client in
            for uri in ["/studio/nope.js", "/studio/", "/studio/..%2Fapp.js", "/index.html", "/studio/app.js/more"] {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.status == .notFound || response.status == .badRequest, "\(uri): \(response.status)")
                    #expect(response.headers[.contentType] == "application/problem+json", "\(uri)")
                }
            }
        }
    }

    @Test func theAPIRoutesAreUntouched() async throws {
        try await Self.withGateway { client in
            try await client.execute(uri: "/api/v1/models", method: .get) { response in
                #expect(response.status == .ok)
                #expect(GatewayProxyTests.json(response)["path"] == "/api/v1/models")
                #expect(response.headers[.contentSecurityPolicy] == nil, "the page's policy is not put on API answers")
            }
            try await client.execute(uri: "/api/v1/docs", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentSecurityPolicy]?.contains("style-src 'unsafe-inline'") == true)
            }
            let cssLength = String(try Self.committed("studio.css").utf8.count)
            try await client.execute(uri: "/studio/studio.css", method: .head) { response in
                #expect(response.status == .ok)
                #expect(response.body.readableBytes == 0)
                #expect(response.headers[.eTag] != nil && response.headers[.contentSecurityPolicy] != nil)
                #expect(response.headers[.contentLength] == cssLength)
            }
            try await client.execute(uri: "/", method: .post) { response in
                #expect(response.status != .ok, "the page is read-only")
            }
        }
    }

    @Test func imageOriginsOfS3StorageJoinThePolicy() async throws {
        let origins = "https://pingvas-images.s3.eu-central-1.amazonaws.com, http://localhost:9000"
        try await GatewayProxyTests.upstream().test(.live) { upstream in
            try await GatewayProxyTests.gateway(upstreamPort: upstream.port!, extra: ["PINGVAS_STUDIO_IMAGE_ORIGINS": origins]).test(.router) { client in
                try await client.execute(uri: "/", method: .get) { response in
                    let csp = try #require(response.headers[.contentSecurityPolicy])
                    #expect(csp.contains("img-src 'self' blob: data: https://pingvas-images.s3.eu-central-1.amazonaws.com http://localhost:9000;"), "\(csp)")
                    #expect(csp.contains("connect-src 'self' https://pingvas-images.s3.eu-central-1.amazonaws.com http://localhost:9000;"), "\(csp)")
                    #expect(csp.contains("script-src 'self';"), "scripts stay the gateway's own: \(csp)")
                }
            }
        }
        func validate(_ origins: String) throws {
            var environment = ["PINGVAS_REDIS_URL": "redis://127.0.0.1:1", "PINGVAS_INTERNAL_SECRET": testInternalSecret, "PINGVAS_STUDIO_IMAGE_ORIGINS": origins]
            for upstream in Upstream.allCases { environment[upstream.configurationKey] = "http://127.0.0.1:9" }
            var reader = ConfigurationReader(environment: environment)
            _ = GatewayConfiguration(reader: &reader)
            try reader.validate()
        }
        try validate(origins)
        for bad in ["https://cdn.example/images", "'unsafe-inline'", "*", "https://a.example; script-src *", "ftp://files.example"] {
            #expect(throws: ConfigurationError.self, "\(bad) is refused at start-up") { try validate(bad) }
        }
    }

    @Test func theGeneratedFileMatchesWebStudio() throws {
        let check = Process()
        check.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        check.arguments = ["python3", TestStack.repositoryRoot.appendingPathComponent("scripts/studio.py").path, "--check"]
        let output = Pipe()
        check.standardOutput = output
        check.standardError = output
        try check.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        check.waitUntilExit()
        #expect(check.terminationStatus == 0, "\(text)")
    }
}
