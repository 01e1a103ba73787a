import Core
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import RedisClient
import ServiceKit
import TestSupport
import Testing
@testable import GalleryService

/// Each image's full recipe, from the `generation.completed` event to the image API, and the
/// remix route's own checks (the submission itself is generation's: EndToEndTests).
@Suite(.timeLimit(.minutes(2))) struct RecipeTests {
    static let request = JobRequest(
        model: "sd15", prompt: "a lighthouse at dusk", negativePrompt: "blurry", width: 512, height: 768, steps: 25, cfgScale: 6.5,
        seed: 1000, sampler: "dpm++2m", scheduler: "karras", batchSize: 2, loras: [.init(name: "add-detail", weight: 0.7)],
        controlnet: .init(model: "canny", image: "", strength: 0.55)
    )

    static func publish(_ fixture: ImageDeliveryTests.Fixture, user: UserID, request: JobRequest?) async throws -> [ImageID] {
        let images = [ImageID(), ImageID()]
        let event = GenerationCompleted(
            jobID: JobID(), userID: user, status: .succeeded, model: "sd15", prompt: "a lighthouse at dusk",
            images: images.enumerated().map { index, id in
                ProducedImage(imageID: id, storageKey: "\(user)/\(id).png", width: 512, height: 768, seed: 1000 + Int64(index), bytes: 10, engine: "stable-diffusion")
            },
            cost: 4, finishedAt: Date(), request: request
        )
        let message = String(decoding: try WireCodec.encode(event), as: UTF8.self)
        _ = try await fixture.redis.xadd(fixture.configuration.keys.generationEvents, maxLength: nil, fields: [("m", message)])
        return images
    }

    static func json(_ response: TestResponse) -> [String: Any] {
        ((try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))) as? [String: Any]) ?? [:]
    }

    @Test func everySubmittedFieldIsReturnedWithEachImage() async throws {
        let fixture = try ImageDeliveryTests.fixture()
        let alice = UserID()
        try await buildApplication(configuration: fixture.configuration).test(.router) { client in
            let images = try await Self.publish(fixture, user: alice, request: Self.request)
            for (index, image) in images.enumerated() {
                let shown = try await eventuallyValue(pollEvery: .milliseconds(50), "image \(index) recorded") {
                    let response = try await client.executeRequest(uri: "/api/v1/images/\(image)", method: .get, headers: .identity(alice), body: nil)
                    return response.status == .ok ? Self.json(response) : nil
                }
                let recipe = try #require(shown["recipe"] as? [String: Any], "\(shown)")
                #expect(recipe["model"] as? String == "sd15" && recipe["prompt"] as? String == "a lighthouse at dusk")
                #expect(recipe["negative_prompt"] as? String == "blurry")
                #expect(recipe["width"] as? Int == 512 && recipe["height"] as? Int == 768 && recipe["steps"] as? Int == 25)
                #expect(recipe["cfg_scale"] as? Double == 6.5 && recipe["sampler"] as? String == "dpm++2m" && recipe["scheduler"] as? String == "karras")
                #expect(recipe["seed"] as? Int == 1000 + index && recipe["batch_index"] as? Int == index && recipe["batch_size"] as? Int == 2)
                let loras = try #require(recipe["loras"] as? [[String: Any]])
                #expect(loras.count == 1 && loras[0]["name"] as? String == "add-detail" && loras[0]["weight"] as? Double == 0.7)
                let controlnet = try #require(recipe["controlnet"] as? [String: Any])
                #expect(controlnet["model"] as? String == "canny" && controlnet["strength"] as? Double == 0.55 && controlnet["image"] == nil)
                #expect(recipe["engine"] as? String == "stable-diffusion")
            }
        }
    }

    @Test func remixChecksRecipeOverridesAndControlImage() async throws {
        let fixture = try ImageDeliveryTests.fixture()
        let alice = UserID()
        try await buildApplication(configuration: fixture.configuration).test(.router) { client in
            let withRecipe = try await Self.publish(fixture, user: alice, request: Self.request)[0]
            let old = try await Self.publish(fixture, user: alice, request: nil)[0]
            try await eventually(pollEvery: .milliseconds(50), "both recorded") {
                let first = try await client.executeRequest(uri: "/api/v1/images/\(old)", method: .get, headers: .identity(alice), body: nil)
                let second = try await client.executeRequest(uri: "/api/v1/images/\(withRecipe)", method: .get, headers: .identity(alice), body: nil)
                return first.status == .ok && second.status == .ok
            }
            func remix(_ id: ImageID, _ body: String, as user: UserID? = nil) async throws -> TestResponse {
                try await client.executeRequest(
                    uri: "/api/v1/images/\(id)/remix", method: .post,
                    headers: .identity(user ?? alice).merging([.contentType: "application/json"]), body: ByteBuffer(string: body)
                )
            }
            #expect(Self.json(try await client.executeRequest(uri: "/api/v1/images/\(old)", method: .get, headers: .identity(alice), body: nil))["recipe"] == nil)
            let noRecipe = try await remix(old, "{}")
            #expect(noRecipe.status == .conflict && Self.json(noRecipe)["type"] as? String == "https://pingvas.studio/problems/no-recipe")
            let unknown = try await remix(withRecipe, #"{"colour": "red"}"#)
            #expect(unknown.status == .unprocessableContent && (Self.json(unknown)["errors"] as? [String: Any])?["colour"] != nil)
            #expect(try await remix(withRecipe, "[1]").status == .badRequest)
            let needsImage = try await remix(withRecipe, #"{"steps": 30}"#)
            #expect(needsImage.status == .unprocessableContent && (Self.json(needsImage)["errors"] as? [String: Any])?["controlnet.image"] != nil)
            #expect(try await remix(withRecipe, "{}", as: UserID()).status == .notFound, "someone else's private image")
            // all checks passed, but this gallery has no generation to submit to
            #expect(try await remix(withRecipe, #"{"controlnet": null}"#).status == .serviceUnavailable)
        }
    }

    @Test func theRemixBodyIsTheRecipeWithTheOverridesOnTop() throws {
        let image = ProducedImage(imageID: ImageID(), storageKey: "u/i.png", width: 512, height: 768, seed: 1001, bytes: 1, engine: "stable-diffusion")
        let recipe = ImageRecipe(request: Self.request, image: image, batchIndex: 1)
        let body = try ImageController.remixBody(recipe, overrides: ["steps": 30, "controlnet": ["image": "iVBORw0KGgo="], "negative_prompt": NSNull()])
        let sent = try WireCodec.decodeBody(JobRequest.self, from: body)
        var expected = Self.request
        expected.steps = 30
        expected.seed = 1001
        expected.batchSize = 1
        expected.negativePrompt = nil
        expected.controlnet = .init(model: "canny", image: "iVBORw0KGgo=", strength: 0.55)
        #expect(sent == expected)
    }
}
