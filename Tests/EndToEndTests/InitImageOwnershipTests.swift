import Foundation
import HTTPClient
import TestSupport
import Testing

/// `init_image_id` names one of the caller's images or the submission is refused with 422
/// `invalid-init-image` before any credit is held; gallery down is 503 with nothing held. All seven
/// executables, through the gateway.
@Suite(.serialized, .timeLimit(.minutes(5))) struct InitImageOwnershipTests {
    func signup(_ api: GatewayClient, _ name: String) async throws -> String {
        let reply = try await api.call("POST", "/api/v1/auth/signup", json: [
            "email": "\(name)-\(UUID().uuidString.prefix(8))@example.com", "password": "correct horse battery", "display_name": name,
        ])
        #expect(reply.status == 201, "signup: \(reply.text)")
        return try #require(reply.json["access_token"] as? String, "signup: \(reply.text)")
    }

    /// Balance and the number of ledger entries: a hold would change both.
    func account(_ api: GatewayClient, _ token: String) async throws -> (credits: Int, entries: Int) {
        let me = try await api.call("GET", "/api/v1/me", token: token)
        let ledger = try await api.call("GET", "/api/v1/me/credits?limit=100", token: token)
        let credits = try #require(me.json["credits"] as? Int, "me: \(me.text)")
        let entries = try #require(ledger.json["entries"] as? [Any], "credits: \(ledger.text)")
        return (credits, entries.count)
    }

    @Test func anotherUsersOrAnUnknownInitImageIsA422BeforeAnyHold() async throws {
        try await ServiceSuite.with { suite in
            let api = GatewayClient(baseURL: suite.gatewayURL)
            let alice = try await signup(api, "alice")
            let bob = try await signup(api, "bob")

            // Alice's 64x64 image.
            let made = try await api.call("POST", "/api/v1/generations", token: alice, json: [
                "model": "preview", "prompt": "a lighthouse", "width": 64, "height": 64, "steps": 2, "cfg_scale": 7,
            ])
            let jobID = try #require(made.json["id"] as? String, "submit: \(made.text)")
            let events = try await api.events("/api/v1/generations/\(jobID)/events", token: alice, until: ["succeeded", "failed", "canceled"])
            #expect(events.last?.0 == "succeeded", "\(events.map(\.0))\n\(suite.logs)")
            let job = try await api.call("GET", "/api/v1/generations/\(jobID)", token: alice)
            let aliceImage = try #require((job.json["images"] as? [[String: Any]])?.first?["id"] as? String, "\(job.text)")

            let before = try await account(api, bob)
            let unknown = UUID().uuidString.lowercased()
            let attempts: [(String, [String: Any])] = [
                ("img2img with alice's image", [
                    "model": "sd15", "prompt": "a harbour", "width": 512, "height": 512, "steps": 20, "cfg_scale": 7,
                    "init_image_id": aliceImage, "strength": 0.5,
                ]),
                ("inpainting with an unknown image", [
                    "model": "sd15", "prompt": "a harbour", "width": 512, "height": 512, "steps": 20, "cfg_scale": 7,
                    "init_image_id": unknown, "mask": Self.whitePNG64,
                ]),
                ("upscaling alice's image", ["model": "realesrgan-x2", "init_image_id": aliceImage]),
                ("upscaling an unknown image", ["model": "realesrgan-x2", "init_image_id": unknown]),
            ]
            var answers: Set<String> = []
            for (what, body) in attempts {
                let reply = try await api.call("POST", "/api/v1/generations", token: bob, json: body, headers: [("Idempotency-Key", UUID().uuidString)])
                #expect(reply.status == 422, "\(what): \(reply.status) \(reply.text)")
                #expect(reply.isProblem && reply.problemType == "invalid-init-image", "\(what): \(reply.text)")
                #expect((reply.json["errors"] as? [String: String])?.keys.sorted() == ["init_image_id"], "\(what): \(reply.text)")
                answers.insert("\(reply.json["title"] ?? "")|\(reply.json["detail"] ?? "")|\(reply.json["errors"] ?? "")")
            }
            #expect(answers.count == 1, "someone else's image and no image get the same answer: \(answers)")
            let after = try await account(api, bob)
            #expect(after.credits == before.credits && after.entries == before.entries, "nothing held: \(before) then \(after)")
            #expect((try await api.call("GET", "/api/v1/generations", token: bob).json["items"] as? [Any])?.isEmpty == true, "no job written")

            // Her own image is accepted (x2 of 64x64: 128x128, 1 + ⌈128 × 128 × 250 / 10⁹⌉ = 2 credits); no
            // worker serves gpu-sd15 here, so it stays queued until she cancels it.
            let aliceBefore = try await account(api, alice)
            let own = try await api.call("POST", "/api/v1/generations", token: alice, json: ["model": "realesrgan-x2", "init_image_id": aliceImage])
            #expect(own.status == 202, "own image: \(own.text)")
            #expect(own.json["cost"] as? Int == 2, "\(own.text)")
            #expect(try await account(api, alice).credits == aliceBefore.credits - 2, "held")
            let ownID = try #require(own.json["id"] as? String)
            #expect(try await api.call("POST", "/api/v1/generations/\(ownID)/cancel", token: alice).status == 200)
            #expect(try await account(api, alice).credits == aliceBefore.credits, "given back on cancel")

            // Gallery down: 503 with Retry-After, nothing held.
            _ = await suite.processes["gallery"]!.stop()
            let down = try await api.call("POST", "/api/v1/generations", token: alice, json: ["model": "realesrgan-x2", "init_image_id": aliceImage])
            #expect(down.status == 503, "gallery down: \(down.status) \(down.text)")
            #expect(down.isProblem && down.problemType == "upstream-unavailable", "\(down.text)")
            #expect(down.headers["Retry-After"] != nil, "Retry-After")
            #expect(try await account(api, alice).credits == aliceBefore.credits, "nothing held while gallery is down")
        }
    }

    /// The signature and IHDR of a 64x64 PNG, base64: the request never gets past the init image
    /// check, so the mask is never decoded.
    static var whitePNG64: String {
        func be32(_ value: Int) -> [UInt8] { [UInt8(value >> 24 & 0xff), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff)] }
        let bytes: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + be32(13) + Array("IHDR".utf8) + be32(64) + be32(64)
            + [8, 2, 0, 0, 0] + [0, 0, 0, 0]
        return Data(bytes).base64EncodedString()
    }
}
