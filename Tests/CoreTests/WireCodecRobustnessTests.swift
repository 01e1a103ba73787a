import Core
import Foundation
import Testing

@Suite(.timeLimit(.minutes(2))) struct WireCodecRobustnessTests {
    /// A hand-written `job.started` envelope with `v` and extra text spliced in.
    func jobStarted(v: String, topExtra: String = "", dataExtra: String = "") -> [UInt8] {
        Array(
            """
            {"v":\(v),"type":"job.started","id":"6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b","at":"2024-05-01T12:00:00.250Z",\(topExtra)\
            "data":{"job_id":"\(Fixtures.jobID)","attempt":1,"worker_id":"w1","started_at":"2024-05-01T12:00:01Z"\(dataExtra)}}
            """.utf8)
    }

    @Test func unknownFieldsAreToleratedAtEveryLevel() throws {
        let bytes = jobStarted(v: "1", topExtra: #""producer":{"name":"ai-worker","build":[1,2]},"#, dataExtra: #","gpu":"A100","vram_gb":80"#)
        let envelope = try WireCodec.decode(JobStarted.self, from: bytes)
        #expect(envelope.data.workerID == "w1")
        #expect(envelope.data.startedAt == Date(timeIntervalSince1970: 1_714_564_801))

        var object = try #require(try JSONSerialization.jsonObject(with: Data(WireCodec.encode(Fixtures.jobQueued))) as? [String: Any])
        var data = try #require(object["data"] as? [String: Any])
        var request = try #require(data["request"] as? [String: Any])
        request["clip_skip"] = 2
        data["request"] = request
        data["region"] = "eu"
        object["data"] = data
        let decoded = try WireCodec.decode(JobQueued.self, from: Array(try JSONSerialization.data(withJSONObject: object)))
        #expect(decoded.data == Fixtures.jobQueued)
    }

    @Test(arguments: ["1", #""1""#, #""1.3""#, #""1.0.7""#])
    func sameMajorVersionsDecode(v: String) throws {
        let envelope = try WireCodec.decode(JobStarted.self, from: jobStarted(v: v))
        #expect(envelope.v == 1)
        #expect(try WireCodec.peek(jobStarted(v: v)).v == 1)
    }

    @Test(arguments: ["2", #""2""#, #""2.0""#])
    func anotherMajorVersionIsUnsupported(v: String) {
        #expect(throws: WireCodecError.unsupportedVersion(2)) { try WireCodec.decode(JobStarted.self, from: jobStarted(v: v)) }
    }

    @Test func zeroVersionIsUnsupportedAndJunkVersionIsMalformed() {
        #expect(throws: WireCodecError.unsupportedVersion(0)) { try WireCodec.decode(JobStarted.self, from: jobStarted(v: "0")) }
        for junk in [#""one""#, #""""#, "true", "[1]", #"".1""#] {
            #expect(throws: WireCodecError.self) { try WireCodec.decode(JobStarted.self, from: jobStarted(v: junk)) }
            do {
                _ = try WireCodec.decode(JobStarted.self, from: jobStarted(v: junk))
            } catch {
                guard case .malformed = error else {
                    Issue.record("v=\(junk) gave \(error)")
                    return
                }
            }
        }
        #expect(throws: WireCodecError.missingField("v")) { try WireCodec.decode(JobStarted.self, from: jobStarted(v: "null")) }
    }

    @Test func truncatedInputAlwaysThrowsATypedError() throws {
        let bytes = try WireCodec.encode(Fixtures.jobQueued, traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
        var checked = 0
        for length in stride(from: 0, to: bytes.count, by: 7) {
            let cut = Array(bytes.prefix(length))
            #expect(throws: WireCodecError.self, "cut at \(length)") { try WireCodec.decode(JobQueued.self, from: cut) }
            #expect(throws: WireCodecError.self, "cut at \(length)") { try WireCodec.peek(cut) }
            checked += 1
        }
        #expect(checked > 20)
        #expect(throws: WireCodecError.self) { try WireCodec.decode(JobQueued.self, from: Array(bytes.dropLast())) }
    }

    @Test func emptyAndNonJSONInputIsMalformed() {
        #expect(throws: WireCodecError.malformed("empty input")) { try WireCodec.decode(JobQueued.self, from: []) }
        #expect(throws: WireCodecError.malformed("empty input")) { try WireCodec.peek([]) }
        #expect(throws: WireCodecError.malformed("not valid JSON")) { try WireCodec.decode(JobQueued.self, from: Array("hello".utf8)) }
        for other in ["[]", "42", #""v""#, "null", "{}", "\u{FF}\u{FE}"] {
            #expect(throws: WireCodecError.self, "\(other)") { try WireCodec.decode(JobQueued.self, from: Array(other.utf8)) }
        }
        #expect(throws: WireCodecError.self) { try WireCodec.decode(JobQueued.self, from: [0xFF, 0x00, 0x7B]) }
    }

    @Test func aDifferentMessageTypeIsATypeMismatch() throws {
        let bytes = try WireCodec.encode(Fixtures.jobQueued)
        #expect(throws: WireCodecError.typeMismatch(expected: "generation.completed", actual: "job.queued")) {
            try WireCodec.decode(GenerationCompleted.self, from: bytes)
        }
    }

    @Test func aFieldOfTheWrongTypeIsMalformedAndNamesThePath() throws {
        let text = String(decoding: try WireCodec.encode(Fixtures.jobQueued), as: UTF8.self)
        let widthAsString = text.replacingOccurrences(of: #""width":1024"#, with: #""width":"1024""#)
        #expect(widthAsString != text)
        let error = #expect(throws: WireCodecError.self) { try WireCodec.decode(JobQueued.self, from: Array(widthAsString.utf8)) }
        guard case .malformed(let detail) = error else {
            Issue.record("expected .malformed, got \(String(describing: error))")
            return
        }
        #expect(detail.hasPrefix("data.request.width"))
    }

    @Test func missingAndNullFieldsAreNamed() throws {
        let text = String(decoding: try WireCodec.encode(Fixtures.jobQueued), as: UTF8.self)
        let withoutQueue = text.replacingOccurrences(of: #""queue":"gpu-sdxl","#, with: "")
        #expect(throws: WireCodecError.missingField("data.queue")) { try WireCodec.decode(JobQueued.self, from: Array(withoutQueue.utf8)) }
        let nullCost = text.replacingOccurrences(of: #""cost":12"#, with: #""cost":null"#)
        #expect(throws: WireCodecError.missingField("data.cost")) { try WireCodec.decode(JobQueued.self, from: Array(nullCost.utf8)) }
    }

    @Test func badValuesAreMalformedNotCrashes() throws {
        let text = String(decoding: try WireCodec.encode(Fixtures.jobQueued, id: EventID("6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b")!), as: UTF8.self)
        let replacements = [
            (#""plan":"pro""#, #""plan":"platinum""#),
            (#""6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b""#, #""not-a-uuid""#),
            (#""enqueued_at":"2024-05-01T12:00:00.250Z""#, #""enqueued_at":"yesterday""#),
            (#""cost":12"#, #""cost":1e40"#),
            (#""cost":12"#, #""cost":1.5"#),
        ]
        for (original, replacement) in replacements {
            let broken = text.replacingOccurrences(of: original, with: replacement)
            #expect(broken != text, "fixture does not contain \(original)")
            #expect(throws: WireCodecError.self, "\(replacement)") { try WireCodec.decode(JobQueued.self, from: Array(broken.utf8)) }
        }
        let unknownOutcome = Array(
            #"{"v":1,"type":"job.finished","id":"\#(EventID())","at":"2024-05-01T12:00:00Z","data":{"job_id":"\#(Fixtures.jobID)","attempt":1,"worker_id":"w","outcome":{"status":"running"}}}"#
                .utf8)
        #expect(throws: WireCodecError.self) { try WireCodec.decode(JobFinished.self, from: unknownOutcome) }
    }

    @Test func errorDescriptionsDoNotEchoValues() throws {
        let text = String(decoding: try WireCodec.encode(Fixtures.jobQueued), as: UTF8.self)
        let broken = text.replacingOccurrences(of: #""plan":"pro""#, with: #""plan":"s3cr3t-value""#)
        let error = #expect(throws: WireCodecError.self) { try WireCodec.decode(JobQueued.self, from: Array(broken.utf8)) }
        #expect(error.map { !String(describing: $0).contains("s3cr3t") } == true)
    }

    @Test func datesWithoutFractionOrWithOffsetsParse() {
        #expect(WireCodec.parseDate("2024-05-01T12:00:00Z") == Date(timeIntervalSince1970: 1_714_564_800))
        #expect(WireCodec.parseDate("2024-05-01T14:00:00.250+02:00") == Fixtures.date)
        #expect(WireCodec.parseDate("2024-05-01") == nil)
        #expect(WireCodec.formatDate(Fixtures.date) == "2024-05-01T12:00:00.250Z")
    }
}
