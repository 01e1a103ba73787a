import Foundation
import HTTPClient
import TestSupport
import Testing

/// The full recipe of each image and remixing it, through the gateway with the real executables.
@Suite(.serialized, .timeLimit(.minutes(5))) struct RemixEndToEndTests {
    static var submitted: [String: Any] {
        [
            "model": "preview", "prompt": "a lighthouse at dusk", "negative_prompt": "blurry, text", "width": 128, "height": 96,
            "steps": 6, "cfg_scale": 6.5, "seed": 77, "sampler": "euler", "scheduler": "karras", "batch_size": 1,
        ]
    }

    func signup(_ api: GatewayClient) async throws -> String {
        let reply = try await api.call("POST", "/api/v1/auth/signup", json: [
            "email": "remix-\(UUID().uuidString.prefix(8))@example.com", "password": "correct horse battery", "display_name": "R",
        ])
        return try #require(reply.json["access_token"] as? String, "signup: \(reply.text)")
    }

    func credits(_ api: GatewayClient, _ token: String) async throws -> Int {
        try #require(try await api.call("GET", "/api/v1/me", token: token).json["credits"] as? Int)
    }

    /// Waits for the job to succeed and for its first image's recipe in the gallery.
    func recipe(ofJob jobID: String, _ api: GatewayClient, _ token: String, logs: @autoclosure () -> String) async throws -> (image: String, recipe: [String: Any]) {
        try await eventually(timeout: .seconds(60), pollEvery: .milliseconds(100), "job \(jobID) succeeds\n\(logs())") {
            try await api.call("GET", "/api/v1/generations/\(jobID)", token: token).json["status"] as? String == "succeeded"
        }
        let job = try await api.call("GET", "/api/v1/generations/\(jobID)", token: token)
        let image = try #require((job.json["images"] as? [[String: Any]])?.first?["id"] as? String)
        let recipe = try await eventuallyValue(pollEvery: .milliseconds(100), "the image's recipe") {
            try await api.call("GET", "/api/v1/images/\(image)", token: token).json["recipe"] as? [String: Any]
        }
        return (image, recipe)
    }

    @Test func aRemixWithOneOverrideHasTheOriginalRecipeExceptThatField() async throws {
        try await ServiceSuite.with { suite in
            let api = GatewayClient(baseURL: suite.gatewayURL)
            let alice = try await signup(api)
            let bob = try await signup(api)
            let first = try await api.call("POST", "/api/v1/generations", token: alice, json: Self.submitted)
            let jobID = try #require(first.json["id"] as? String, "\(first.text)")
            let original = try await recipe(ofJob: jobID, api, alice, logs: suite.logs)

            // every submitted field comes back, with the seed, batch index and engine
            for (key, value) in Self.submitted {
                #expect("\(original.recipe[key] ?? "missing")" == "\(value)", "recipe.\(key)")
            }
            #expect(original.recipe["batch_index"] as? Int == 0 && original.recipe["engine"] as? String == "preview")

            let before = try await credits(api, alice)
            let key = UUID().uuidString
            let remixed = try await api.call("POST", "/api/v1/images/\(original.image)/remix", token: alice, json: ["steps": 9], headers: [("Idempotency-Key", key)])
            #expect(remixed.status == 202, "\(remixed.text)")
            let remixID = try #require(remixed.json["id"] as? String)
            let cost = try #require(remixed.json["cost"] as? Int)
            let again = try await api.call("POST", "/api/v1/images/\(original.image)/remix", token: alice, json: ["steps": 9], headers: [("Idempotency-Key", key)])
            #expect(again.status == 202 && again.json["id"] as? String == remixID, "the same key gives the same job")
            let reused = try await api.call("POST", "/api/v1/images/\(original.image)/remix", token: alice, json: ["steps": 10], headers: [("Idempotency-Key", key)])
            #expect(reused.status == 422 && reused.problemType == "idempotency-key-reused", "\(reused.text)")
            #expect(try await credits(api, alice) == before - cost, "held once, like any submission")

            let remix = try await recipe(ofJob: remixID, api, alice, logs: suite.logs)
            #expect(remix.recipe["steps"] as? Int == 9)
            var expected = original.recipe
            var got = remix.recipe
            expected["steps"] = nil
            got["steps"] = nil
            #expect(NSDictionary(dictionary: got) == NSDictionary(dictionary: expected), "remix \(got) vs original \(expected)")

            // others: a private image is not there; a public one can be remixed, on their own credits
            #expect(try await api.call("POST", "/api/v1/images/\(original.image)/remix", token: bob, json: [:]).status == 404)
            #expect(try await api.call("PATCH", "/api/v1/images/\(original.image)", token: alice, json: ["visibility": "public"]).status == 200)
            let bobBefore = try await credits(api, bob)
            let aliceBefore = try await credits(api, alice)
            let bobs = try await api.call("POST", "/api/v1/images/\(original.image)/remix", token: bob, json: ["prompt": "a lighthouse at dawn"])
            #expect(bobs.status == 202, "\(bobs.text)")
            #expect(try await credits(api, bob) == bobBefore - (bobs.json["cost"] as? Int ?? -1))
            #expect(try await credits(api, alice) == aliceBefore)
            // generation's own validation applies
            let tooWide = try await api.call("POST", "/api/v1/images/\(original.image)/remix", token: bob, json: ["width": 100_000])
            #expect(tooWide.status == 422 && tooWide.problemType == "validation-failed", "\(tooWide.text)")
            #expect(try await api.call("POST", "/api/v1/images/\(original.image)/remix", json: [:]).status == 401)
        }
    }
}
