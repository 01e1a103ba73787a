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

/// The gallery against the real PostgreSQL and Redis: events in, images out.
@Suite(.timeLimit(.minutes(2))) struct GalleryTests {
    struct Fixture {
        let configuration: GalleryConfiguration
        let storage: URL
        let redis: RedisPool
    }

    static func fixture() throws -> Fixture {
        let servers = try TestStack.shared()
        let storage = TestStack.repositoryRoot.appendingPathComponent(".run/test-private/\(TestStack.uniqueName("gallery"))")
        try FileManager.default.createDirectory(at: storage, withIntermediateDirectories: true)
        var reader = ConfigurationReader(environment: [
            "PINGVAS_DATABASE_URL": servers.databaseURL, "PINGVAS_REDIS_URL": servers.redisURL, "PINGVAS_INTERNAL_SECRET": testInternalSecret, 
            "PINGVAS_DB_SCHEMA": TestStack.uniqueName("g"), "PINGVAS_STORAGE_DIR": storage.path, "PINGVAS_EVENT_LEASE": "200ms",
        ])
        var configuration = GalleryConfiguration(reader: &reader)
        try reader.validate()
        configuration.keys = PipelineKeys(namespace: TestStack.uniqueName("g"))
        return Fixture(
            configuration: configuration, storage: storage,
            redis: RedisPool(configuration: RedisConfiguration(url: servers.redisURL), logger: Logger(label: "test"))
        )
    }

    /// Writes a PNG-ish file for `image` and publishes a `generation.completed` carrying it.
    static func publish(_ fixture: Fixture, user: UserID, images: [ImageID], prompt: String = "a red fox in snow", status: JobStatus = .succeeded) async throws -> JobID {
        let job = JobID()
        var produced: [ProducedImage] = []
        for image in images {
            let key = "\(user)/\(image).png"
            let directory = fixture.storage.appendingPathComponent(user.description)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let bytes = Data([0x89, 0x50, 0x4E, 0x47] + Array(image.description.utf8))
            try bytes.write(to: fixture.storage.appendingPathComponent(key))
            produced.append(ProducedImage(imageID: image, storageKey: key, width: 64, height: 48, seed: 7, bytes: bytes.count, engine: "preview"))
        }
        let event = GenerationCompleted(
            jobID: job, userID: user, status: status, model: "preview", prompt: prompt, images: produced, cost: 3, finishedAt: Date()
        )
        let message = String(decoding: try WireCodec.encode(event), as: UTF8.self)
        _ = try await fixture.redis.xadd(fixture.configuration.keys.generationEvents, maxLength: nil, fields: [("m", message)])
        return job
    }

    static func headers(_ user: UserID) -> HTTPFields { .identity(user) }

    static func items(_ response: TestResponse) -> [[String: Any]] {
        ((try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))) as? [String: Any])?["items"] as? [[String: Any]] ?? []
    }

    /// Polls the owner's list until it holds `count` images; those images.
    static func waitForImages(_ client: some TestClientProtocol, user: UserID, count: Int) async throws -> [[String: Any]] {
        try await eventuallyValue(pollEvery: .milliseconds(50), "\(count) image(s) in the owner's list") {
            let items = items(try await client.executeRequest(uri: "/api/v1/images", method: .get, headers: headers(user), body: nil))
            return items.count >= count ? items : nil
        }
    }

    @Test func completedGenerationsBecomeImagesOnceEvenWhenRedelivered() async throws {
        let fixture = try Self.fixture()
        let alice = UserID()
        let image = ImageID()
        try await buildApplication(configuration: fixture.configuration).test(.live) { client in
            _ = try await Self.publish(fixture, user: alice, images: [image])
            // the same event again (a redelivery) and a failed job with no images
            let event = try await fixture.redis.send("XRANGE", fixture.configuration.keys.generationEvents, "-", "+")
            let body = try #require(event.array?.first?.array?[1].array?[1].string)
            _ = try await fixture.redis.xadd(fixture.configuration.keys.generationEvents, maxLength: nil, fields: [("m", body)])
            _ = try await Self.publish(fixture, user: alice, images: [], status: .failed)
            let items = try await Self.waitForImages(client, user: alice, count: 1)
            // A window for a second image (from the redelivery or the failed job) to show up: none may.
            try await Task.sleep(for: .milliseconds(500))
            let again = Self.items(try await client.executeRequest(uri: "/api/v1/images", method: .get, headers: Self.headers(alice), body: nil))
            #expect(items.count == 1 && again.count == 1)
            #expect(again.first?["id"] as? String == image.description)
            #expect(again.first?["engine"] as? String == "preview")
            #expect(again.first?["visibility"] as? String == "private")
            #expect(again.first?["url"] as? String == "/api/v1/images/\(image)/content")
        }
    }

    @Test func anUnreadableEventIsDeadLetteredAndTheNextOneStillWorks() async throws {
        let fixture = try Self.fixture()
        let alice = UserID()
        try await buildApplication(configuration: fixture.configuration).test(.live) { client in
            let before = try await fixture.redis.send("XLEN", fixture.configuration.keys.eventsDeadLetter).int ?? 0
            _ = try await fixture.redis.xadd(fixture.configuration.keys.generationEvents, maxLength: nil, fields: [("m", "{\"v\": 1, \"type\": \"generation.completed\", \"dat")])
            _ = try await Self.publish(fixture, user: alice, images: [ImageID()])
            #expect(try await Self.waitForImages(client, user: alice, count: 1).count == 1)
            let after = try await fixture.redis.send("XLEN", fixture.configuration.keys.eventsDeadLetter).int ?? 0
            #expect(after >= before + 1)
        }
    }

    @Test func ownersSeeTheirImagesOthersGet404UnlessShared() async throws {
        let fixture = try Self.fixture()
        let alice = UserID(), bob = UserID()
        let first = ImageID(), second = ImageID()
        try await buildApplication(configuration: fixture.configuration).test(.live) { client in
            _ = try await Self.publish(fixture, user: alice, images: [first], prompt: "a red fox in snow")
            _ = try await Self.publish(fixture, user: alice, images: [second], prompt: "a blue whale at night")
            #expect(try await Self.waitForImages(client, user: alice, count: 2).count == 2)

            let content = try await client.executeRequest(uri: "/api/v1/images/\(first)/content", method: .get, headers: Self.headers(alice), body: nil)
            #expect(content.status == .ok)
            #expect(content.headers[.contentType] == "image/png")
            #expect(Array(content.body.readableBytesView.prefix(4)) == [0x89, 0x50, 0x4E, 0x47])

            for uri in ["/api/v1/images/\(first)", "/api/v1/images/\(first)/content"] {
                #expect(try await client.executeRequest(uri: uri, method: .get, headers: Self.headers(bob), body: nil).status == .notFound)
                #expect(try await client.executeRequest(uri: uri, method: .get, headers: [:], body: nil).status == .notFound)
            }
            #expect(try await client.executeRequest(uri: "/api/v1/images/\(first)", method: .delete, headers: Self.headers(bob), body: nil).status == .notFound)
            #expect(try await client.executeRequest(uri: "/api/v1/images", method: .get, headers: [:], body: nil).status == .unauthorized)

            // full-text search on the prompt
            let found = Self.items(try await client.executeRequest(uri: "/api/v1/images?q=whale", method: .get, headers: Self.headers(alice), body: nil))
            #expect(found.map { $0["id"] as? String } == [second.description])

            // paging: one per page, newest first, then the older one, then the end
            let page1 = try await client.executeRequest(uri: "/api/v1/images?limit=1", method: .get, headers: Self.headers(alice), body: nil)
            let cursor = try #require(((try JSONSerialization.jsonObject(with: Data(page1.body.readableBytesView))) as? [String: Any])?["next_cursor"] as? String)
            let page2 = try await client.executeRequest(uri: "/api/v1/images?limit=1&cursor=\(cursor)", method: .get, headers: Self.headers(alice), body: nil)
            #expect(Self.items(page1).first?["id"] as? String != Self.items(page2).first?["id"] as? String)
            #expect(try await client.executeRequest(uri: "/api/v1/images?cursor=garbage", method: .get, headers: Self.headers(alice), body: nil).status == .badRequest)
            #expect(try await client.executeRequest(uri: "/api/v1/images?limit=0", method: .get, headers: Self.headers(alice), body: nil).status == .unprocessableContent)

            // making it public shares it, and puts it in the feed
            let patch = try await client.executeRequest(
                uri: "/api/v1/images/\(first)", method: .patch, headers: Self.headers(alice).merging([.contentType: "application/json"]),
                body: ByteBuffer(string: #"{"visibility": "public", "title": "Fox", "tags": ["fox", "snow"]}"#)
            )
            #expect(patch.status == .ok)
            #expect(try await client.executeRequest(uri: "/api/v1/images/\(first)/content", method: .get, headers: Self.headers(bob), body: nil).status == .ok)
            let feed = Self.items(try await client.executeRequest(uri: "/api/v1/explore?limit=100", method: .get, headers: [:], body: nil))
            #expect(feed.contains { $0["id"] as? String == first.description })
            #expect(!feed.contains { $0["id"] as? String == second.description })
            let badPatch = try await client.executeRequest(
                uri: "/api/v1/images/\(first)", method: .patch, headers: Self.headers(alice), body: ByteBuffer(string: #"{"visibility": "everyone"}"#)
            )
            #expect(badPatch.status == .badRequest)

            // deleting removes the record and the file
            let file = fixture.storage.appendingPathComponent("\(alice)/\(first).png")
            #expect(FileManager.default.fileExists(atPath: file.path))
            #expect(try await client.executeRequest(uri: "/api/v1/images/\(first)", method: .delete, headers: Self.headers(alice), body: nil).status == .noContent)
            #expect(!FileManager.default.fileExists(atPath: file.path))
            #expect(try await client.executeRequest(uri: "/api/v1/images/\(first)", method: .get, headers: Self.headers(alice), body: nil).status == .notFound)
        }
    }

    @Test(arguments: ["../etc/passwd", "/abs/path.png", "a/../b.png", "a//b.png", "a/b c.png", ""])
    func unsafeStorageKeysAreRefused(key: String) {
        #expect(throws: StorageKeyError.self) { try FileSystemImageStorage(directory: "/tmp").location(of: key) }
    }
}
