import Foundation
import HTTPClient
import TestSupport
import Testing

/// One image end to end through all seven real executables, only through the gateway.
@Suite(.serialized, .timeLimit(.minutes(5))) struct WalkingSkeletonTests {
    static var request: [String: Any] {
        [
        "model": "preview", "prompt": "a lighthouse at dusk, oil painting", "negative_prompt": "blurry",
        "width": 96, "height": 64, "steps": 6, "cfg_scale": 7, "seed": 42, "batch_size": 1,
        ]
    }

    func signup(_ api: GatewayClient, _ name: String) async throws -> (token: String, id: String) {
        let reply = try await api.call("POST", "/api/v1/auth/signup", json: [
            "email": "  \(name.uppercased())-\(UUID().uuidString.prefix(6))@Example.com ", "password": "correct horse battery", "display_name": name,
        ])
        #expect(reply.status == 201, "signup: \(reply.text)")
        let token = try #require(reply.json["access_token"] as? String)
        let user = try #require(reply.json["user"] as? [String: Any])
        #expect((user["email"] as? String)?.hasSuffix("@example.com") == true, "email is normalised")
        return (token, try #require(user["id"] as? String))
    }

    func credits(_ api: GatewayClient, _ token: String) async throws -> Int {
        let me = try await api.call("GET", "/api/v1/me", token: token)
        #expect(me.status == 200, "me: \(me.text)")
        return try #require(me.json["credits"] as? Int, "me: \(me.text)")
    }

    @Test func oneImageEndToEnd() async throws {
        let suite = try await ServiceSuite.start()
        let api = GatewayClient(baseURL: suite.gatewayURL)
        let worker = suite.processes["ai-worker"]!
        do {
            let alice = try await signup(api, "alice")
            let bob = try await signup(api, "bob")
            let startBalance = try await credits(api, alice.token)
            #expect(startBalance == 100, "signup grant")

            let models = try await api.call("GET", "/api/v1/models", token: alice.token)
            #expect(models.status == 200)
            let ids = (models.json["items"] as? [[String: Any]])?.compactMap { $0["id"] as? String } ?? []
            #expect(ids.contains("preview"), "catalog: \(models.text)")

            // Keep the worker from taking the job until the event stream is open.
            worker.pause()
            let key = UUID().uuidString
            let submitted = try await api.call("POST", "/api/v1/generations", token: alice.token, json: Self.request, headers: [("Idempotency-Key", key)])
            #expect(submitted.status == 202, "submit: \(submitted.text)")
            let jobID = try #require(submitted.json["id"] as? String, "\(submitted.text)")
            let cost = try #require(submitted.json["cost"] as? Int)
            #expect(cost > 0)
            #expect(submitted.json["status"] as? String == "queued")

            let retried = try await api.call("POST", "/api/v1/generations", token: alice.token, json: Self.request, headers: [("Idempotency-Key", key)])
            #expect(retried.status == 202)
            #expect(retried.json["id"] as? String == jobID, "same key and body give the same job")
            var other = Self.request
            other["seed"] = 43
            let conflicting = try await api.call("POST", "/api/v1/generations", token: alice.token, json: other, headers: [("Idempotency-Key", key)])
            #expect(conflicting.status == 422 && conflicting.isProblem, "same key, other body: \(conflicting.text)")

            async let streamed = api.events("/api/v1/generations/\(jobID)/events", token: alice.token, until: ["succeeded", "failed", "canceled"])
            try await suite.waitForSubscriber(channel: "pingvas:job:\(jobID)")
            worker.resume()
            let events = try await streamed
            let names = events.map { $0.0 }
            #expect(names.first == "queued", "events: \(names)")
            #expect(names.contains("progress"), "events: \(names)")
            #expect(names.last == "succeeded", "events: \(names)\n\(suite.logs)")

            let job = try await api.call("GET", "/api/v1/generations/\(jobID)", token: alice.token)
            #expect(job.status == 200)
            #expect(job.json["status"] as? String == "succeeded", "\(job.text)")
            let images = try #require(job.json["images"] as? [[String: Any]], "\(job.text)")
            #expect(images.count == 1)
            let imageID = try #require(images.first?["id"] as? String)

            // gallery records the image from the generation.completed event
            try await eventually(pollEvery: .milliseconds(100), "the image appears in the owner's gallery\n\(suite.logs)") {
                let list = try await api.call("GET", "/api/v1/images", token: alice.token)
                return ((list.json["items"] as? [[String: Any]]) ?? []).contains { $0["id"] as? String == imageID }
            }

            let (content, redirected) = try await api.image("/api/v1/images/\(imageID)/content", token: alice.token)
            #expect(content.status == 200)
            #expect(content.headers["Content-Type"] == "image/png")
            #expect(redirected == (suite.bucket != nil), "with S3 the bytes come from the bucket, by redirect")
            let size = try #require(pngSize(content.body), "not a PNG")
            #expect(size.width == 96 && size.height == 64)

            #expect(try await credits(api, alice.token) == startBalance - cost, "charged exactly the cost")

            // Bob sees nothing of Alice's.
            #expect(try await api.call("GET", "/api/v1/generations/\(jobID)", token: bob.token).status == 404)
            #expect(try await api.call("GET", "/api/v1/images/\(imageID)", token: bob.token).status == 404)
            #expect(try await api.call("GET", "/api/v1/images/\(imageID)/content", token: bob.token).status == 404)
            #expect(try await api.call("POST", "/api/v1/generations/\(jobID)/cancel", token: bob.token).status == 404)

            // A queued job that is canceled is refunded, and the worker skips it.
            let before = try await credits(api, alice.token)
            worker.pause()
            let queued = try await api.call("POST", "/api/v1/generations", token: alice.token, json: Self.request)
            #expect(queued.status == 202, "\(queued.text)")
            let queuedID = try #require(queued.json["id"] as? String)
            #expect(try await credits(api, alice.token) == before - cost, "held while queued")
            let canceled = try await api.call("POST", "/api/v1/generations/\(queuedID)/cancel", token: alice.token)
            #expect(canceled.status == 200, "\(canceled.text)")
            #expect(try await credits(api, alice.token) == before, "refunded on cancel")
            worker.resume()
            // A window for the worker to run the canceled job: it must skip it.
            try await Task.sleep(for: .seconds(2))
            let after = try await api.call("GET", "/api/v1/generations/\(queuedID)", token: alice.token)
            #expect(after.json["status"] as? String == "canceled", "\(after.text)")
            #expect(try await credits(api, alice.token) == before)
        } catch {
            worker.resume()
            await suite.stop()
            throw error
        }
        let statuses = await suite.stop()
        for (id, status) in statuses { #expect(status == 0, "\(id) exit status \(String(describing: status))") }
    }

    @Test func badInputGetsAClearProblemNeverA500() async throws {
        try await ServiceSuite.with { suite in
            let api = GatewayClient(baseURL: suite.gatewayURL)
            let alice = try await signup(api, "carol")

            func expectProblem(_ reply: GatewayClient.Reply, _ status: Int, _ type: String, _ what: String) {
                #expect(reply.status == status, "\(what): \(reply.status) \(reply.text)")
                #expect(reply.isProblem, "\(what): not problem+json: \(reply.text)")
                #expect(reply.problemType == type, "\(what): type \(reply.problemType ?? "-")")
                #expect(reply.json["request_id"] is String, "\(what): no request_id")
            }

            expectProblem(try await api.call("POST", "/api/v1/generations", token: alice.token, raw: "{\"model\": \"preview\", "), 400, "invalid-body", "malformed JSON")
            var wrongType = Self.request
            wrongType["width"] = "wide"
            expectProblem(try await api.call("POST", "/api/v1/generations", token: alice.token, json: wrongType), 400, "invalid-body", "wrong type")
            var unknownModel = Self.request
            unknownModel["model"] = "no-such-model"
            expectProblem(try await api.call("POST", "/api/v1/generations", token: alice.token, json: unknownModel), 422, "unknown-model", "unknown model")
            var oversize = Self.request
            oversize["width"] = 100_000
            let tooWide = try await api.call("POST", "/api/v1/generations", token: alice.token, json: oversize)
            expectProblem(tooWide, 422, "validation-failed", "oversize width")
            #expect((tooWide.json["errors"] as? [String: Any])?["width"] != nil, "names the field: \(tooWide.text)")

            expectProblem(try await api.call("POST", "/api/v1/generations", json: Self.request), 401, "unauthorized", "missing token")
            var tampered = Array(alice.token)
            let middle = alice.token.firstIndex(of: ".").map { alice.token.distance(from: alice.token.startIndex, to: $0) + 5 } ?? 10
            tampered[middle] = tampered[middle] == "A" ? "B" : "A"
            expectProblem(try await api.call("GET", "/api/v1/me", token: String(tampered)), 401, "invalid-token", "tampered token")
            expectProblem(try await api.call("GET", "/api/v1/nothing-here", token: alice.token), 404, "not-found", "unknown route")
            expectProblem(try await api.call("POST", "/internal/credits/holds", json: ["user_id": alice.id, "job_id": UUID().uuidString, "amount": 1]), 404, "not-found", "internal route")
            expectProblem(try await api.call("GET", "/api/v1/internal/route", token: alice.token), 404, "not-found", "internal path under api")

            // A forged identity header is ignored: the token decides who you are.
            let me = try await api.call("GET", "/api/v1/me", token: alice.token, headers: [("X-User-Id", UUID().uuidString.lowercased())])
            #expect(me.json["id"] as? String == alice.id)

            let big = String(repeating: "x", count: 9 * 1024 * 1024)
            expectProblem(try await api.call("POST", "/api/v1/generations", token: alice.token, raw: big), 413, "payload-too-large", "oversize body")
        }
    }
}
