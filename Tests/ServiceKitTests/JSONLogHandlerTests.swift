import Foundation
import Logging
import Testing
@testable import ServiceKit

@Suite(.timeLimit(.minutes(2))) struct JSONLogHandlerTests {
    @Test func writesOneJSONObjectPerLineWithSecretsRedacted() throws {
        let sink = LogSink.memory()
        var logger = Logger(label: "user") { _ in JSONLogHandler(service: "user", level: .info, sink: sink) }
        logger[metadataKey: "request_id"] = "r-1"
        logger.info("signed up", metadata: ["user_id": "u-1", "password": "hunter2", "refresh_token": "abc"])
        logger.debug("below the level")
        let lines = sink.contents.split(separator: "\n")
        #expect(lines.count == 1)
        let object = try #require(JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(object["service"] as? String == "user")
        #expect(object["msg"] as? String == "signed up")
        #expect(object["level"] as? String == "info")
        #expect(object["request_id"] as? String == "r-1")
        #expect(object["user_id"] as? String == "u-1")
        #expect(object["password"] as? String == "[redacted]")
        #expect(object["refresh_token"] as? String == "[redacted]")
        #expect(!sink.contents.contains("hunter2"))
        #expect((object["ts"] as? String)?.hasSuffix("Z") == true)
    }

    @Test(arguments: [
        ("password", true), ("Refresh_Token", true), ("AUTHORIZATION", true), ("x_signature", true), ("signing_secret", true),
        ("Set-Cookie", true), ("lemonsqueezy_API_KEY", true), ("user_id", false), ("tok", false), ("", false), ("ünïcødé_key", false),
    ])
    func secretKeysAreRecognisedWhateverTheirCase(key: String, secret: Bool) {
        #expect(JSONLogHandler.isSecret(key) == secret, "\(key)")
    }

    @Test func escapesWhatJSONNeedsAndKeepsTheRest() throws {
        let sink = LogSink.memory()
        let logger = Logger(label: "user") { _ in JSONLogHandler(service: "user", level: .info, sink: sink) }
        let tricky = "quote \" backslash \\ line\nbreak tab\t bell\u{07} slash / ünïcødé 🐧"
        logger.error("\(tricky)", metadata: ["list": ["a", "b\"c"], "nested": ["k": "v"]])
        let lines = sink.contents.split(separator: "\n")
        #expect(lines.count == 1)
        let object = try #require(JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(object["msg"] as? String == tricky)
        #expect(object["list"] as? [String] == ["a", "b\"c"])
        #expect((object["nested"] as? [String: String]) == ["k": "v"])
        #expect(object["source"] is String)
        #expect(lines[0].contains("slash / "), "slashes are not escaped")
        let ts = try #require(object["ts"] as? String)
        #expect(ts.wholeMatch(of: /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z/) != nil, "\(ts)")
        let keys = lines[0].split(separator: ",").compactMap { $0.split(separator: ":").first }
        #expect(keys.first?.contains("level") == true, "keys are sorted: \(lines[0])")
    }
}
