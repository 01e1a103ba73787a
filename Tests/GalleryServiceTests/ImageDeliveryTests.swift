import Core
import Foundation
import HTTPClient
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import RedisClient
import ServiceKit
import TestSupport
import Testing
@testable import GalleryService

/// `GET /api/v1/images/{id}/content` from the folder (bytes with validators, 304, ranges) and from
/// a real S3 server (moto on loopback: a redirect to a presigned URL, or to the CDN for public images).
@Suite(.timeLimit(.minutes(3))) struct ImageDeliveryTests {
    static let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + (0..<3000).map { UInt8($0 % 241) }
    static let thumbnail: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + Array("small".utf8)

    struct Fixture {
        let configuration: GalleryConfiguration
        let storage: any ImageStorage
        let redis: RedisPool
    }

    /// A gallery over the shared test stack with `storage` settings (a fresh folder when empty).
    static func fixture(_ storage: [String: String] = [:]) throws -> Fixture {
        let servers = try TestStack.shared()
        var environment = [
            "PINGVAS_DATABASE_URL": servers.databaseURL, "PINGVAS_REDIS_URL": servers.redisURL, "PINGVAS_INTERNAL_SECRET": testInternalSecret,
            "PINGVAS_DB_SCHEMA": TestStack.uniqueName("g"), "PINGVAS_EVENT_LEASE": "200ms",
            "PINGVAS_STORAGE_DIR": TestStack.repositoryRoot.appendingPathComponent(".run/test-private/\(TestStack.uniqueName("gallery"))").path,
        ]
        environment.merge(storage) { _, new in new }
        var reader = ConfigurationReader(environment: environment)
        var configuration = GalleryConfiguration(reader: &reader)
        try reader.validate()
        configuration.keys = PipelineKeys(namespace: TestStack.uniqueName("g"))
        return Fixture(
            configuration: configuration, storage: ImageStorageFactory.make(configuration.storage, logger: Logger(label: "test")),
            redis: RedisPool(configuration: RedisConfiguration(url: servers.redisURL), logger: Logger(label: "test"))
        )
    }

    static func s3Fixture(extra: [String: String] = [:]) async throws -> (Fixture, bucket: String) {
        let bucket = try await MotoServer.makeBucket()
        var environment = [
            "PINGVAS_STORAGE_URL": "s3://\(bucket)/img", "PINGVAS_S3_ENDPOINT": try await MotoServer.endpoint(),
            "PINGVAS_S3_ACCESS_KEY_ID": "AKIATEST", "PINGVAS_S3_SECRET_ACCESS_KEY": "secret",
        ]
        environment.merge(extra) { _, new in new }
        return (try fixture(environment), bucket)
    }

    /// Stores the image through the fixture's storage, publishes its `generation.completed`, and
    /// waits until the owner's list shows it.
    static func publish(_ fixture: Fixture, user: UserID, client: some TestClientProtocol, thumbnail: Bool = true) async throws -> ImageID {
        let image = ImageID()
        let key = "\(user)/\(image).png"
        try await fixture.storage.write(key, bytes: png)
        let thumbnailKey = thumbnail ? "\(user)/\(image).thumb.png" : nil
        if let thumbnailKey { try await fixture.storage.write(thumbnailKey, bytes: Self.thumbnail) }
        let event = GenerationCompleted(
            jobID: JobID(), userID: user, status: .succeeded, model: "preview", prompt: "a lighthouse",
            images: [ProducedImage(imageID: image, storageKey: key, width: 64, height: 48, seed: 7, bytes: png.count, engine: "preview", thumbnailKey: thumbnailKey)],
            cost: 1, finishedAt: Date()
        )
        let message = String(decoding: try WireCodec.encode(event), as: UTF8.self)
        _ = try await fixture.redis.xadd(fixture.configuration.keys.generationEvents, maxLength: nil, fields: [("m", message)])
        try await eventually(pollEvery: .milliseconds(50), "the image is in the owner's list") {
            try await client.executeRequest(uri: "/api/v1/images/\(image)", method: .get, headers: .identity(user), body: nil).status == .ok
        }
        return image
    }

    static func get(_ client: some TestClientProtocol, _ uri: String, _ headers: HTTPFields) async throws -> TestResponse {
        try await client.executeRequest(uri: uri, method: .get, headers: headers, body: nil)
    }

    @Test func folderContentHasValidatorsConditionalGetAndRanges() async throws {
        let fixture = try Self.fixture()
        let alice = UserID()
        try await buildApplication(configuration: fixture.configuration).test(.router) { client in
            let image = try await Self.publish(fixture, user: alice, client: client)
            let uri = "/api/v1/images/\(image)/content"
            let full = try await Self.get(client, uri, .identity(alice))
            #expect(full.status == .ok)
            #expect(Array(full.body.readableBytesView) == Self.png)
            let etag = try #require(full.headers[.eTag])
            #expect(full.headers[.cacheControl] == "private, max-age=3600")
            #expect(full.headers[.acceptRanges] == "bytes")
            let modified = try #require(full.headers[.lastModified].flatMap(HTTPDate.parse))
            #expect(abs(modified.timeIntervalSinceNow) < 120)

            let cached = try await Self.get(client, uri, .identity(alice).merging([.ifNoneMatch: etag]))
            #expect(cached.status == .notModified)
            #expect(cached.body.readableBytes == 0)
            #expect(cached.headers[.eTag] == etag)
            #expect(try await Self.get(client, uri, .identity(alice).merging([.ifNoneMatch: "\"other\""])).status == .ok)
            let since = try await Self.get(client, uri, .identity(alice).merging([.ifModifiedSince: HTTPDate.format(Date().addingTimeInterval(60))]))
            #expect(since.status == .notModified)

            let head = try await Self.get(client, uri, .identity(alice).merging([.range: "bytes=0-7"]))
            #expect(head.status == .partialContent)
            #expect(Array(head.body.readableBytesView) == Array(Self.png[0...7]))
            #expect(head.headers[.contentRange] == "bytes 0-7/\(Self.png.count)")
            let tail = try await Self.get(client, uri, .identity(alice).merging([.range: "bytes=-100"]))
            #expect(tail.status == .partialContent)
            #expect(Array(tail.body.readableBytesView) == Array(Self.png.suffix(100)))
            let open = try await Self.get(client, uri, .identity(alice).merging([.range: "bytes=3000-"]))
            #expect(Array(open.body.readableBytesView) == Array(Self.png[3000...]))
            let beyond = try await Self.get(client, uri, .identity(alice).merging([.range: "bytes=999999-"]))
            #expect(beyond.status == .rangeNotSatisfiable)
            #expect(beyond.headers[.contentRange] == "bytes */\(Self.png.count)")
            #expect(String(buffer: beyond.body).contains("https://pingvas.studio/problems/range-not-satisfiable"))
            // several ranges, or an If-Range for other bytes: the whole image
            #expect(try await Self.get(client, uri, .identity(alice).merging([.range: "bytes=0-1,5-6"])).status == .ok)
            #expect(try await Self.get(client, uri, .identity(alice).merging([.range: "bytes=0-1", .ifRange: "\"old\""])).status == .ok)

            // others still get 404, with or without validators
            #expect(try await Self.get(client, uri, .identity(UserID()).merging([.ifNoneMatch: etag])).status == .notFound)
            #expect(try await Self.get(client, uri, [.range: "bytes=0-1"]).status == .notFound)
        }
    }

    @Test func s3ContentRedirectsToAPresignedURLThatServesTheImage() async throws {
        let (fixture, bucket) = try await Self.s3Fixture(extra: ["PINGVAS_STORAGE_PRESIGN_TTL": "90s"])
        let alice = UserID()
        let http = CurlHTTPClient(logger: Logger(label: "test"))
        try await buildApplication(configuration: fixture.configuration).test(.router) { client in
            let image = try await Self.publish(fixture, user: alice, client: client)
            let response = try await Self.get(client, "/api/v1/images/\(image)/content", .identity(alice))
            #expect(response.status == .found)
            #expect(response.headers[.cacheControl] == "private, no-store")
            let location = try #require(response.headers[.location])
            #expect(location.hasPrefix("\(try await MotoServer.endpoint())/\(bucket)/img/\(alice)/\(image).png?"))
            #expect(location.contains("X-Amz-Expires=90&"))
            let fetched = try await http.execute(HTTPClientRequest(url: location, timeout: .seconds(10)))
            #expect(fetched.status == 200)
            #expect(fetched.body == Self.png)
            // someone else learns nothing, not even a URL
            let other = try await Self.get(client, "/api/v1/images/\(image)/content", .identity(UserID()))
            #expect(other.status == .notFound && other.headers[.location] == nil)

            // the thumbnail the same way
            let small = try await Self.get(client, "/api/v1/images/\(image)/thumbnail", .identity(alice))
            #expect(small.status == .found)
            let smallLocation = try #require(small.headers[.location])
            #expect(smallLocation.contains("/img/\(alice)/\(image).thumb.png?"))
            #expect(try await http.execute(HTTPClientRequest(url: smallLocation, timeout: .seconds(10))).body == Self.thumbnail)

            #expect(try await MotoServer.keys(in: bucket).count == 2)
            let metrics = String(buffer: try await Self.get(client, "/metrics", [:]).body)
            let presigns = metrics.split(separator: "\n").filter {
                $0.hasPrefix("pingvas_storage_operations_total{") && $0.contains(#"backend="s3""#) && $0.contains(#"operation="presign""#)
                    && $0.contains(#"outcome="ok""#)
            }
            #expect(presigns.count == 1 && (presigns.first?.split(separator: " ").last.flatMap { Double($0) } ?? 0) >= 2, "\(presigns)")
            #expect(metrics.contains("pingvas_storage_operation_seconds_bucket{"))
            #expect(try await client.executeRequest(uri: "/api/v1/images/\(image)", method: .delete, headers: .identity(alice), body: nil).status == .noContent)
            #expect(try await MotoServer.keys(in: bucket).isEmpty, "image and thumbnail are gone from the bucket")
        }
    }

    @Test func publicImagesRedirectToTheCDNPrivateOnesStayPresigned() async throws {
        let (fixture, bucket) = try await Self.s3Fixture(extra: ["PINGVAS_CDN_BASE_URL": "https://cdn.pingvas.test/"])
        let alice = UserID()
        try await buildApplication(configuration: fixture.configuration).test(.router) { client in
            let image = try await Self.publish(fixture, user: alice, client: client)
            let before = try await Self.get(client, "/api/v1/images/\(image)/content", .identity(alice))
            #expect(before.headers[.location]?.contains("X-Amz-Signature=") == true)
            let patch = try await client.executeRequest(
                uri: "/api/v1/images/\(image)", method: .patch, headers: .identity(alice).merging([.contentType: "application/json"]),
                body: ByteBuffer(string: #"{"visibility": "public"}"#)
            )
            #expect(patch.status == .ok)
            let anonymous = try await Self.get(client, "/api/v1/images/\(image)/content", [:])
            #expect(anonymous.status == .found)
            #expect(anonymous.headers[.location] == "https://cdn.pingvas.test/img/\(alice)/\(image).png")
            #expect(try await MotoServer.keys(in: bucket) == ["img/\(alice)/\(image).png", "img/\(alice)/\(image).thumb.png"].sorted())
            let small = try await Self.get(client, "/api/v1/images/\(image)/thumbnail", [:])
            #expect(small.headers[.location] == "https://cdn.pingvas.test/img/\(alice)/\(image).thumb.png")
        }
    }

    @Test func listingsCarryThumbnailURLsThatServeTheSmallCopy() async throws {
        let fixture = try Self.fixture()
        let alice = UserID()
        try await buildApplication(configuration: fixture.configuration).test(.router) { client in
            let image = try await Self.publish(fixture, user: alice, client: client)
            let older = try await Self.publish(fixture, user: alice, client: client, thumbnail: false)
            let list = try await Self.get(client, "/api/v1/images", .identity(alice))
            let items = try #require((try JSONSerialization.jsonObject(with: Data(list.body.readableBytesView)) as? [String: Any])?["items"] as? [[String: Any]])
            #expect(Set(items.compactMap { $0["thumbnail_url"] as? String }) == [
                "/api/v1/images/\(image)/thumbnail", "/api/v1/images/\(older)/thumbnail",
            ])
            let small = try await Self.get(client, "/api/v1/images/\(image)/thumbnail", .identity(alice))
            #expect(small.status == .ok && Array(small.body.readableBytesView) == Self.thumbnail)
            #expect(small.headers[.eTag] != nil)
            // an image from before thumbnails: its thumbnail URL serves the full image
            #expect(Array(try await Self.get(client, "/api/v1/images/\(older)/thumbnail", .identity(alice)).body.readableBytesView) == Self.png)
            #expect(try await Self.get(client, "/api/v1/images/\(image)/thumbnail", .identity(UserID())).status == .notFound)
        }
    }

    @Test func aMissingObjectIsA404NotA500() async throws {
        let folder = try Self.fixture()
        let alice = UserID()
        try await buildApplication(configuration: folder.configuration).test(.router) { client in
            let image = try await Self.publish(folder, user: alice, client: client)
            try await folder.storage.delete("\(alice)/\(image).png")
            let response = try await Self.get(client, "/api/v1/images/\(image)/content", .identity(alice))
            #expect(response.status == .notFound)
            #expect(String(buffer: response.body).contains("content-missing"))
        }
    }
}
