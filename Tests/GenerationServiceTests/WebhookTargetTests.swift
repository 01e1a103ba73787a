import Foundation
import PingvasCrypto
import Testing
@testable import GenerationService

/// Where webhooks may go, and how they are signed, without a server.
@Suite(.timeLimit(.minutes(1))) struct WebhookTargetTests {
    @Test(arguments: [
        "127.0.0.1", "127.8.9.10", "10.0.0.1", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254", "100.64.0.1",
        "0.0.0.0", "224.0.0.1", "255.255.255.255", "::1", "::", "fe80::1", "fd00::1", "fc00::1", "ff02::1", "::ffff:127.0.0.1",
        "::ffff:10.1.2.3", "not-an-address",
    ])
    func internalAddressesAreRefused(address: String) {
        #expect(WebhookTarget.isInternal(address))
    }

    @Test(arguments: ["93.184.216.34", "8.8.8.8", "172.32.0.1", "192.169.0.1", "100.128.0.1", "2606:4700::1111", "::ffff:93.184.216.34"])
    func publicAddressesAreAllowed(address: String) {
        #expect(!WebhookTarget.isInternal(address))
    }

    @Test func urlsAreCheckedBeforeAnyAddress() async {
        let target = WebhookTarget(allowedHosts: ["127.0.0.1"])
        #expect(await target.problem(with: "http://127.0.0.1:9/hooks") == nil, "an allowed host")
        #expect(await target.problem(with: "http://localhost:9/hooks")?.contains("non-public") == true, "localhost is not on the list")
        #expect(await target.problem(with: "http://10.0.0.1/hooks")?.contains("non-public") == true)
        #expect(await target.problem(with: "ftp://example.com/x") != nil)
        #expect(await target.problem(with: "https://user:pass@example.com/x") != nil, "credentials in the URL")
        #expect(await target.problem(with: "/relative") != nil)
    }

    /// The example of the Standard Webhooks specification's reference libraries.
    @Test func signaturesFollowStandardWebhooks() {
        let headers = WebhookSigner.headers(
            secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_330,
            body: Array(#"{"test": 2432232314}"#.utf8)
        )
        #expect(headers.first { $0.0 == "webhook-signature" }?.1 == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        #expect(WebhookSigner.makeSecret().hasPrefix("whsec_"))
    }
}
