import Testing

@testable import HTTPClient

/// A request with pinned addresses connects to them, whatever DNS says (webhooks: no DNS rebinding
/// between the check of a target's addresses and the connection).
@Suite(.timeLimit(.minutes(1)))
struct PinnedAddressTests {
    /// `.invalid` never resolves (RFC 6761): only the pin can take the request anywhere.
    @Test func aPinnedHostIsReachedAtItsPinnedAddressUnderItsOwnName() async throws {
        try await TestServer.with { base in
            let port = try #require(base.split(separator: ":").last.map(String.init))
            try await withClient { client in
                await #expect(throws: HTTPClientError.self, "without a pin the name does not resolve") {
                    try await client.execute(HTTPClientRequest(url: "http://hooks.pingvas.invalid:\(port)/echo"))
                }
                let pinned = try await client.execute(HTTPClientRequest(url: "http://hooks.pingvas.invalid:\(port)/echo", pinnedAddresses: ["127.0.0.1"]))
                #expect(pinned.status == 200)
                #expect(pinned[header: "X-Seen-Host"] == "hooks.pingvas.invalid:\(port)", "the request still names its host")
            }
        }
    }

    @Test func theResolveEntryNamesHostPortAndBracketedIPv6() throws {
        #expect(try PreparedRequest.resolveLine(url: "https://example.com/hook", addresses: ["93.184.216.34"]) == "+example.com:443:93.184.216.34")
        #expect(try PreparedRequest.resolveLine(url: "http://example.com/hook", addresses: ["93.184.216.34"]) == "+example.com:80:93.184.216.34")
        #expect(
            try PreparedRequest.resolveLine(url: "https://user@example.com:8443?x=1", addresses: ["93.184.216.34", "2606:4700::1111"])
                == "+example.com:8443:93.184.216.34,[2606:4700::1111]"
        )
        #expect(try PreparedRequest.resolveLine(url: "https://example.com/hook", addresses: []) == nil, "nothing to pin")
        #expect(try PreparedRequest.resolveLine(url: "https://93.184.216.34/hook", addresses: ["93.184.216.34"]) == nil, "an address is not resolved")
        #expect(try PreparedRequest.resolveLine(url: "https://[2606:4700::1111]/hook", addresses: ["2606:4700::1111"]) == nil)
        // Nothing that could end the entry or add another one.
        for bad in ["1.2.3.4,10.0.0.1", "1.2.3.4 ", "", "evil.example", "1.2.3.4\n"] {
            #expect(throws: HTTPClientError.self, "\(bad.debugDescription)") {
                try PreparedRequest.resolveLine(url: "https://example.com/", addresses: [bad])
            }
        }
        #expect(throws: HTTPClientError.self) { try PreparedRequest.resolveLine(url: "https://example.com:99999/", addresses: ["1.2.3.4"]) }
    }
}
