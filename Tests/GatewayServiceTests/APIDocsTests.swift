import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import TestSupport
import Testing
@testable import GatewayService

/// The gateway serves the OpenAPI document and its reference page itself, and they are the ones in docs/.
@Suite(.timeLimit(.minutes(2))) struct APIDocsTests {
    static func file(_ path: String) throws -> String {
        try String(contentsOf: TestStack.repositoryRoot.appendingPathComponent(path), encoding: .utf8)
    }

    @Test func theServedDocumentIsTheOneInTheRepository() async throws {
        let committed = try Self.file("docs/openapi.json")
        try await GatewayProxyTests.upstream().test(.live) { upstream in
            try await GatewayProxyTests.gateway(upstreamPort: upstream.port!).test(.router) { client in
                try await client.execute(uri: "/api/v1/openapi.json", method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(response.headers[.contentType] == "application/json")
                    let served = String(buffer: response.body)
                    #expect(served == committed, "the gateway's copy differs from docs/openapi.json: run python3 scripts/openapi.py")
                    let document = try #require(try JSONSerialization.jsonObject(with: Data(served.utf8)) as? [String: Any])
                    #expect(document["openapi"] as? String == "3.1.0")
                    let paths = try #require(document["paths"] as? [String: Any])
                    #expect(paths["/api/v1/generations/{id}/events"] != nil)
                }
            }
        }
    }

    @Test func theReferencePageIsSelfContained() async throws {
        let committed = try Self.file("docs/api.html")
        try await GatewayProxyTests.upstream().test(.live) { upstream in
            try await GatewayProxyTests.gateway(upstreamPort: upstream.port!).test(.router) { client in
                try await client.execute(uri: "/api/v1/docs", method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(response.headers[.contentType]?.hasPrefix("text/html") == true)
                    #expect(response.headers[.contentSecurityPolicy]?.contains("default-src 'none'") == true)
                    let page = String(buffer: response.body)
                    #expect(page == committed, "the gateway's page differs from docs/api.html: run python3 scripts/openapi.py")
                    #expect(page.contains("POST</span><span class=path>/api/v1/generations</span>"), "operations are rendered")
                    #expect(page.contains("id=\"schema-Generation\""), "schemas are rendered")
                    for external in ["<script", "<link", "src=", "http://", "https://cdn"] {
                        #expect(!page.contains(external), "the page loads nothing from elsewhere: found \(external)")
                    }
                }
            }
        }
    }

    @Test func everythingElseUnderTheAPIIsStillProxied() async throws {
        try await GatewayProxyTests.upstream().test(.live) { upstream in
            try await GatewayProxyTests.gateway(upstreamPort: upstream.port!).test(.router) { client in
                try await client.execute(uri: "/api/v1/models", method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(GatewayProxyTests.json(response)["path"] == "/api/v1/models")
                }
                try await client.execute(uri: "/api/v1/docs/more", method: .get) { response in
                    #expect(response.status == .notFound, "no upstream serves /api/v1/docs/*")
                }
                try await client.execute(uri: "/api/v1/me", method: .get) { response in
                    #expect(response.status == .unauthorized, "the proxy still checks tokens")
                }
            }
        }
    }

    @Test func theGeneratedFilesMatchTheYAMLSource() throws {
        let check = Process()
        check.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        check.arguments = ["python3", TestStack.repositoryRoot.appendingPathComponent("scripts/openapi.py").path, "--check"]
        let output = Pipe()
        check.standardOutput = output
        check.standardError = output
        try check.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        check.waitUntilExit()
        #expect(check.terminationStatus == 0, "\(text)")
    }
}
