import Core
import Foundation
import Testing

@Suite(.timeLimit(.minutes(2))) struct WireCodecRoundTripTests {
    func roundTrip<P: WireMessage & Equatable>(_ payload: P, traceparent: String? = nil) throws -> Envelope<P> {
        let id = EventID()
        let bytes = try WireCodec.encode(payload, id: id, at: Fixtures.date, traceparent: traceparent)
        let envelope = try WireCodec.decode(P.self, from: bytes)
        #expect(envelope.data == payload)
        #expect(envelope.id == id)
        #expect(envelope.at == Fixtures.date)
        #expect(envelope.type == P.type)
        #expect(envelope.v == WireCodec.currentVersion)
        #expect(envelope.traceparent == traceparent)
        return envelope
    }

    @Test func jobQueuedRoundTrips() throws {
        _ = try roundTrip(Fixtures.jobQueued, traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
        var withoutOptionals = Fixtures.jobQueued
        withoutOptionals.deadline = nil
        withoutOptionals.request = JobRequest(model: "sd15", prompt: "cat", width: 512, height: 512, steps: 20, cfgScale: 7)
        _ = try roundTrip(withoutOptionals)
    }

    @Test func jobProgressRoundTrips() throws {
        _ = try roundTrip(JobProgress(jobID: Fixtures.jobID, attempt: 2, step: 7, totalSteps: 30, imageIndex: 1, preview: "AAAA"))
        _ = try roundTrip(JobProgress(jobID: Fixtures.jobID, attempt: 1, step: 1, totalSteps: 20))
    }

    @Test func jobStartedRoundTrips() throws {
        _ = try roundTrip(JobStarted(jobID: Fixtures.jobID, attempt: 1, workerID: "ai-worker-7f9c-0", startedAt: Fixtures.later))
    }

    @Test(arguments: [
        JobOutcome.succeeded(images: [Fixtures.image]),
        .failed(code: "out_of_memory", message: "CUDA out of memory", retryable: true),
        .canceled,
    ])
    func jobFinishedRoundTrips(outcome: JobOutcome) throws {
        _ = try roundTrip(JobFinished(jobID: Fixtures.jobID, attempt: 3, workerID: "w1", outcome: outcome))
    }

    @Test func generationCompletedRoundTrips() throws {
        _ = try roundTrip(
            GenerationCompleted(
                jobID: Fixtures.jobID, userID: Fixtures.userID, status: .succeeded, model: "sdxl-base-1.0", prompt: "a lighthouse",
                negativePrompt: "blurry", images: [Fixtures.image, Fixtures.image], cost: 12, finishedAt: Fixtures.later))
        _ = try roundTrip(
            GenerationCompleted(
                jobID: Fixtures.jobID, userID: Fixtures.userID, status: .failed, model: "flux-dev", prompt: "x", images: [], cost: 0,
                finishedAt: Fixtures.later))
    }

    @Test func creditsGrantedAndPlanChangedRoundTrip() throws {
        _ = try roundTrip(CreditsGranted(userID: Fixtures.userID, amount: 500, reason: "credit_pack", reference: "order_12345"))
        _ = try roundTrip(PlanChanged(userID: Fixtures.userID, plan: .studio, effectiveAt: Fixtures.date, sourceRef: "sub_987"))
    }

    @Test func envelopeHasTheDocumentedShape() throws {
        let bytes = try WireCodec.encode(Fixtures.jobQueued, at: Fixtures.date, traceparent: nil)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        #expect(object["v"] as? Int == 1)
        #expect(object["type"] as? String == "job.queued")
        #expect(object["at"] as? String == "2024-05-01T12:00:00.250Z")
        #expect(object["traceparent"] == nil)
        let id = try #require(object["id"] as? String)
        #expect(id == id.lowercased() && EventID(id) != nil)
        let data = try #require(object["data"] as? [String: Any])
        #expect(Set(data.keys) == ["job_id", "user_id", "attempt", "plan", "priority", "request", "cost", "queue", "deadline", "enqueued_at"])
        #expect(data["cost"] as? Int == 12)
        #expect(data["priority"] as? Int == Plan.pro.priority)
        let request = try #require(data["request"] as? [String: Any])
        #expect(request["cfg_scale"] as? Double == 7.5)
        #expect(request["batch_size"] as? Int == 2)
        #expect(request["negative_prompt"] as? String == "blurry")
    }

    @Test func jobFinishedOutcomeIsFlatWithStatus() throws {
        let failed = JobFinished(jobID: Fixtures.jobID, attempt: 1, workerID: "w", outcome: .failed(code: "c", message: "m", retryable: false))
        let object = try JSONSerialization.jsonObject(with: Data(try WireCodec.encode(failed))) as? [String: Any]
        let outcome = try #require((object?["data"] as? [String: Any])?["outcome"] as? [String: Any])
        #expect(outcome["status"] as? String == "failed")
        #expect(outcome["code"] as? String == "c")
        #expect(outcome["retryable"] as? Bool == false)
        #expect(JobOutcome.canceled.status == .canceled)
    }

    @Test func traceparentDefaultsToTheBoundRequestContext() throws {
        let trace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        let bytes = try RequestContext.$traceparent.withValue(trace) { try WireCodec.encode(Fixtures.jobQueued) }
        #expect(try WireCodec.peek(bytes).traceparent == trace)
        #expect(try WireCodec.peek(try WireCodec.encode(Fixtures.jobQueued)).traceparent == nil)
    }

    @Test func defaultTimestampIsNowWithMillisecondPrecision() throws {
        let before = Date()
        let header = try WireCodec.peek(try WireCodec.encode(Fixtures.jobQueued))
        #expect(abs(header.at.timeIntervalSince(before)) < 5)
    }

    @Test func peekReadsTheHeaderWithoutTheData() throws {
        let id = EventID()
        let bytes = try WireCodec.encode(Fixtures.jobQueued, id: id, at: Fixtures.date, traceparent: "t")
        let header = try WireCodec.peek(bytes)
        #expect(header == EnvelopeHeader(v: 1, type: "job.queued", id: id, at: Fixtures.date, traceparent: "t"))
        let noData = Array(#"{"v":1,"type":"job.queued","id":"\#(id)","at":"2024-05-01T12:00:00.250Z"}"#.utf8)
        #expect(try WireCodec.peek(noData).type == "job.queued")
        #expect(throws: WireCodecError.missingField("data")) { try WireCodec.decode(JobQueued.self, from: noData) }
    }

    @Test func reencodingAnEnvelopeKeepsItsIdentity() throws {
        let original = try WireCodec.decode(JobQueued.self, from: try WireCodec.encode(Fixtures.jobQueued, at: Fixtures.date))
        let again = try WireCodec.decode(JobQueued.self, from: try WireCodec.encode(original))
        #expect(again == original)
    }

    @Test func internalBodiesRoundTrip() throws {
        func check<T: Codable & Equatable>(_ value: T) throws {
            #expect(try WireCodec.decodeBody(T.self, from: try WireCodec.encodeBody(value)) == value)
        }
        try check(CreditHoldRequest(userID: Fixtures.userID, jobID: Fixtures.jobID, amount: 12))
        try check(CreditHoldResponse(holdID: "hold_1", balance: 88))
        try check(CreditHoldResponse(holdID: nil, balance: 3))
        try check(CreditSettleRequest(jobID: Fixtures.jobID))
        try check(RouteRequest(userID: Fixtures.userID, plan: .free, request: Fixtures.request))
        try check(RouteResponse(queue: "gpu-sdxl", cost: 12, modelFamily: "sdxl", estimatedSeconds: 9.5))
        try check(RouteResponse(queue: "gpu-sd15", cost: 4, modelFamily: "sd15"))
        try check(
            ImageSummary(
                id: Fixtures.image.imageID, generationID: Fixtures.jobID, width: 512, height: 768, seed: -1, prompt: "p", model: "sd15",
                visibility: .unlisted, createdAt: Fixtures.date, url: "https://cdn.example/i/1.png"))
    }

    @Test func internalBodiesUseSnakeCaseKeys() throws {
        let body = try WireCodec.encodeBody(RouteResponse(queue: "q", cost: 1, modelFamily: "sdxl", estimatedSeconds: 2))
        #expect(String(decoding: body, as: UTF8.self) == #"{"cost":1,"estimated_seconds":2,"model_family":"sdxl","queue":"q"}"#)
        let summary = ImageSummary(
            id: Fixtures.image.imageID, generationID: Fixtures.jobID, width: 1, height: 1, seed: 1, prompt: "", model: "m",
            visibility: .public, createdAt: Fixtures.date, url: "https://x/y")
        let object = try JSONSerialization.jsonObject(with: Data(try WireCodec.encodeBody(summary))) as? [String: Any]
        #expect(object?["generation_id"] as? String == Fixtures.jobID.description)
        #expect(object?["created_at"] as? String == "2024-05-01T12:00:00.250Z")
        #expect(object?["visibility"] as? String == "public")
        #expect(object?["url"] as? String == "https://x/y")
    }

    @Test func imagesFromWorkersWithoutThumbnailsStillDecode() throws {
        let old = #"[{"image_id":"5d7f3a1b-9c2e-4b8d-a6f0-1e3c5b7d9f21","storage_key":"u/i.png","width":8,"height":8,"seed":1,"content_type":"image/png","bytes":10,"engine":"preview"}]"#
        let images = try WireCodec.decodeBody([ProducedImage].self, from: Array(old.utf8))
        #expect(images.first?.thumbnailKey == nil && images.first?.storageKey == "u/i.png")
        let encoded = String(decoding: try WireCodec.encodeBody(Fixtures.image), as: UTF8.self)
        #expect(encoded.contains(#""thumbnail_key":"images\/2024\/05\/01\/5d7f3a1b.thumb.png""#) || encoded.contains(#""thumbnail_key":"images/2024/05/01/5d7f3a1b.thumb.png""#))
    }
}
