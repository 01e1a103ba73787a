import Foundation
import Testing
@testable import PaymentWebhookService

/// `EnvelopeScanner` answers only where `JSONDecoder` would give the same envelope, and does answer
/// for the bodies Lemon Squeezy sends.
@Suite(.timeLimit(.minutes(1))) struct EnvelopeScannerTests {
    /// What `JSONDecoder` makes of `body`: the envelope, or nil when it refuses it.
    static func decoded(_ body: [UInt8]) -> EnvelopeScanner.Envelope? {
        guard let envelope = try? JSONDecoder().decode(LemonSqueezyEnvelope.self, from: Data(body)) else { return nil }
        return EnvelopeScanner.Envelope(eventName: envelope.meta.eventName, testMode: envelope.meta.testMode)
    }

    static let user = "0b0f2c1e-8d4a-4d2e-9a51-3f6d7c8e9a10"

    @Test func readsTheBodiesLemonSqueezySendsLikeJSONDecoder() {
        let bodies = [
            LemonSqueezyPayloads.order(id: 1, user: Self.user),
            LemonSqueezyPayloads.order(id: 2, user: nil, testMode: true),
            LemonSqueezyPayloads.order("order_refunded", id: 3, user: Self.user, status: "refunded"),
            LemonSqueezyPayloads.subscription("subscription_created", id: 4, user: Self.user, updatedAt: "2030-01-01T09:00:00.000000Z"),
            LemonSqueezyPayloads.invoice("subscription_payment_success", id: 5, subscription: 4, user: Self.user),
            #"{"meta":{"event_name":"order_created"}}"#,
            #"{"meta":{"event_name":"order_created","test_mode":null,"custom_data":null}}"#,
            #"{"data":{"a":[1,-2.5e+3,0.0,true,false,null,"\"\\\/\b\f\n\r\t\u00e9"]},"meta":{"custom_data":{"user_id":null,"x":[{}]},"event_name":"x"}}"#,
            " \n{\"meta\": {\"event_name\": \"order_created\", \"note\": \"Łódź – café ☕ 𝄞\"}} \r\n",
        ]
        for body in bodies {
            let bytes = Array(body.utf8)
            let scanned = EnvelopeScanner.scan(bytes)
            #expect(scanned != nil, "the scanner answers for \(body.prefix(60))")
            #expect(scanned == Self.decoded(bytes))
        }
    }

    /// Where the two could differ, the scanner leaves the body to `JSONDecoder` (nil).
    @Test func leavesEverythingUnusualToJSONDecoder() {
        let texts: [String] = [
            "", "not json", "[]", "null", "{", "{}", #"{"meta": {}}"#, #"{"meta": []}"#, #"{"meta": {"event_name": null}}"#,
            #"{"meta": {"event_name": 5}}"#,
            #"{"meta": {"event_name": "order_created"}} x"#,
            #"{"meta": {"event_name": "order_created"},}"#,
            #"{"meta": {"event_name": "order_created"}, "meta": {"event_name": "order_refunded"}}"#,
            #"{"meta": {"event_name": "order_created", "event_name": "order_refunded"}}"#,
            #"{"meta": {"event\u005fname": "order_created"}}"#,
            #"{"meta": {"event_name": "order\u005fcreated"}}"#,
            #"{"meta": {"event_name": "order_created", "test_mode": 1}}"#,
            #"{"meta": {"event_name": "order_created", "test_mode": "true"}}"#,
            #"{"meta": {"event_name": "order_created", "custom_data": "x"}}"#,
            #"{"meta": {"event_name": "order_created", "custom_data": {"user_id": 7}}}"#,
            #"{"meta": {"event_name": "order_created"}, "data": {"n": 01}}"#,
            #"{"meta": {"event_name": "order_created"}, "data": {"n": 1.}}"#,
            #"{"meta": {"event_name": "order_created"}, "data": {"n": -}}"#,
            #"{"meta": {"event_name": "order_created"}, "data": "\ud83d\ude00"}"#,
            #"{"meta": {"event_name": "order_created"}, "data": "\u0000"}"#,
            #"{"meta": {"event_name": "order_created"}, "data": "\x"}"#,
            #"{"meta": {"event_name": "order_created"}, "data": tru}"#,
            "{\"meta\": {\"event_name\": \"order_created\"}, \"data\": \"tab\there\"}",
            String(repeating: "[", count: 70) + String(repeating: "]", count: 70),
            #"{"meta": {"event_name": "order_created"}, "data": "# + String(repeating: "[", count: 70) + String(repeating: "]", count: 70) + "}",
        ]
        let raw: [[UInt8]] = [
            Array(#"{"meta": {"event_name": "order_created"}, "data": ""#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8),
            Array(#"{"meta": {"event_name": "order_created"}, "data": ""#.utf8) + [0xED, 0xA0, 0x80] + Array(#""}"#.utf8),
            Array(#"{"meta": {"event_name": "order_created"}, "data": ""#.utf8) + [0xC0, 0xAF] + Array(#""}"#.utf8),
            [0xEF, 0xBB, 0xBF] + Array(#"{"meta": {"event_name": "order_created"}}"#.utf8),
        ]
        for body in texts.map({ Array($0.utf8) }) + raw {
            #expect(EnvelopeScanner.scan(body) == nil, "left to JSONDecoder: \(String(decoding: body, as: UTF8.self).prefix(80))")
        }
    }

    /// Every prefix and single-byte change of a real body: wherever the scanner answers, JSONDecoder agrees.
    @Test func agreesWithJSONDecoderOnMangledBodies() {
        let body = Array(#"{"meta": {"test_mode": false, "event_name": "order_created", "custom_data": {"user_id": "u-1"}}, "data": {"id": 12, "x": [1.5, "a\"b", null]}}"#.utf8)
        var answered = 0
        for length in 0...body.count {
            let prefix = Array(body.prefix(length))
            if let scanned = EnvelopeScanner.scan(prefix) {
                answered += 1
                #expect(scanned == Self.decoded(prefix))
            }
        }
        #expect(answered == 1)  // only the whole body is a document
        for index in body.indices {
            for replacement: UInt8 in [UInt8(ascii: "\""), UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: ","), UInt8(ascii: "1"), 0x20, UInt8(ascii: "\\"), 0xFF] {
                var mangled = body
                mangled[index] = replacement
                if let scanned = EnvelopeScanner.scan(mangled) {
                    #expect(scanned == Self.decoded(mangled), "byte \(index) as \(replacement): \(String(decoding: mangled, as: UTF8.self))")
                }
            }
        }
    }
}
