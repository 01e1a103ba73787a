import Core
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import RedisClient
import ServiceKit
import TestSupport
import Testing
@testable import GalleryService

/// A result may name only objects under its owner's prefix, with an allowed content type: a forged
/// `generation.completed` pointing at another user's file (or a script as an "image") records
/// nothing, while the honest images of the same event are recorded.
@Suite(.timeLimit(.minutes(2))) struct ResultTrustTests {
    @Test func onlyTheOwnersObjectsWithImageTypesAreRecorded() async throws {
        let fixture = try GalleryTests.fixture()
        let alice = UserID(), mallory = UserID()
        let honest = ImageID(), stolen = ImageID(), escaping = ImageID(), script = ImageID(), stolenThumbnail = ImageID()
        let images = [
            ProducedImage(imageID: honest, storageKey: "\(mallory)/\(honest).png", width: 64, height: 64, seed: 1, bytes: 4, engine: "preview"),
            ProducedImage(imageID: stolen, storageKey: "\(alice)/\(ImageID()).png", width: 64, height: 64, seed: 2, bytes: 4, engine: "preview"),
            ProducedImage(imageID: escaping, storageKey: "\(mallory)/../\(alice)/x.png", width: 64, height: 64, seed: 3, bytes: 4, engine: "preview"),
            ProducedImage(imageID: script, storageKey: "\(mallory)/\(script).png", width: 64, height: 64, seed: 4, contentType: "text/html", bytes: 4, engine: "preview"),
            ProducedImage(
                imageID: stolenThumbnail, storageKey: "\(mallory)/\(stolenThumbnail).png", width: 64, height: 64, seed: 5, bytes: 4, engine: "preview",
                thumbnailKey: "\(alice)/\(ImageID()).thumb.png"),
        ]
        let event = GenerationCompleted(
            jobID: JobID(), userID: mallory, status: .succeeded, model: "preview", prompt: "a forged result", images: images, cost: 3, finishedAt: Date()
        )
        try await buildApplication(configuration: fixture.configuration).test(.live) { client in
            let message = String(decoding: try WireCodec.encode(event), as: UTF8.self)
            _ = try await fixture.redis.xadd(fixture.configuration.keys.generationEvents, maxLength: nil, fields: [("m", message)])
            let recorded = try await GalleryTests.waitForImages(client, user: mallory, count: 1)
            #expect(recorded.compactMap { $0["id"] as? String } == [honest.description], "only the honest image: \(recorded)")
            for refused in [stolen, escaping, script, stolenThumbnail] {
                let response = try await client.executeRequest(uri: "/api/v1/images/\(refused)", method: .get, headers: .identity(mallory), body: nil)
                #expect(response.status == .notFound, "\(refused) was recorded")
            }
        }
        await fixture.redis.close()
    }
}
