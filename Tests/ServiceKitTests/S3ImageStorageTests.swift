import Foundation
import HTTPClient
import Logging
import ServiceKit
import TestSupport
import Testing

/// `S3ImageStorage` against a real moto S3 server on loopback, built the way the services build it.
@Suite(.timeLimit(.minutes(3))) struct S3ImageStorageTests {
    static let logger = Logger(label: "test")
    static let client = CurlHTTPClient(logger: logger)

    /// Storage over a fresh bucket, from the same variables the services read.
    static func storage(prefix: String = "images", extra: [String: String] = [:]) async throws -> (any ImageStorage, bucket: String) {
        let bucket = try await MotoServer.makeBucket()
        var environment = [
            "PINGVAS_STORAGE_URL": "s3://\(bucket)/\(prefix)", "PINGVAS_S3_ENDPOINT": try await MotoServer.endpoint(),
            "PINGVAS_S3_REGION": "eu-central-1", "PINGVAS_S3_ACCESS_KEY_ID": "AKIATESTKEY", "PINGVAS_S3_SECRET_ACCESS_KEY": "test-secret",
        ]
        environment.merge(extra) { _, new in new }
        var reader = ConfigurationReader(environment: environment)
        let configuration = StorageConfiguration.read(from: &reader)
        try reader.validate()
        return (ImageStorageFactory.make(configuration, logger: logger), bucket)
    }

    static let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + (0..<5000).map { UInt8($0 % 251) }

    @Test func writtenImagesAreReadHeadedAndDeletedInTheBucket() async throws {
        let (storage, bucket) = try await Self.storage()
        let key = "\(UUID())/\(UUID()).png"
        try await storage.write(key, bytes: Self.png)
        #expect(try await MotoServer.keys(in: bucket) == ["images/\(key)"])
        #expect(try await storage.read(key) == Self.png)

        let head = try #require(try await storage.head(key))
        #expect(head.size == Self.png.count)
        #expect(head.serverSideEncryption == "AES256")
        #expect(head.etag.hasPrefix("\"") && head.etag.count > 2)
        #expect(abs(head.lastModified.timeIntervalSinceNow) < 120)

        try await storage.delete(key)
        #expect(try await storage.read(key) == nil)
        #expect(try await storage.head(key) == nil)
        #expect(try await MotoServer.keys(in: bucket).isEmpty)
        try await storage.delete(key)  // deleting again is no error
    }

    @Test func missingKeysAreNil() async throws {
        let (storage, _) = try await Self.storage()
        #expect(try await storage.read("nobody/nothing.png") == nil)
        #expect(try await storage.head("nobody/nothing.png") == nil)
    }

    @Test func presignedURLIsFetchedByAPlainHTTPClient() async throws {
        let (storage, _) = try await Self.storage()
        let key = "\(UUID())/\(UUID()).png"
        try await storage.write(key, bytes: Self.png)
        let url = try #require(try await storage.presignedURL(for: key, expires: .seconds(60)))
        #expect(url.query?.contains("X-Amz-Expires=60") == true)
        #expect(url.query?.contains("X-Amz-Signature=") == true)
        let response = try await Self.client.execute(HTTPClientRequest(url: url.absoluteString, timeout: .seconds(10)))
        #expect(response.status == 200)
        #expect(response.body == Self.png)
        #expect(storage.cdnPath(for: key) == "images/\(key)")
    }

    @Test func presignedURLsNameThePublicEndpointWhenOneIsSet() async throws {
        // The services reach the server as 127.0.0.1, clients as localhost (compose: minio vs localhost).
        let endpoint = try await MotoServer.endpoint()
        let (storage, bucket) = try await Self.storage(extra: ["PINGVAS_S3_PUBLIC_ENDPOINT": endpoint.replacingOccurrences(of: "127.0.0.1", with: "localhost")])
        try await storage.write("u/i.png", bytes: Self.png)
        let url = try #require(try await storage.presignedURL(for: "u/i.png", expires: .seconds(60)))
        #expect(url.absoluteString.hasPrefix(endpoint.replacingOccurrences(of: "127.0.0.1", with: "localhost") + "/\(bucket)/images/u/i.png?"))
        #expect(try await Self.client.execute(HTTPClientRequest(url: url.absoluteString, timeout: .seconds(10))).body == Self.png)
    }

    @Test(arguments: ["../etc/passwd", "/abs/x.png", "a//b.png", "a/b c.png", ""])
    func unsafeKeysAreRefused(key: String) async throws {
        let (storage, _) = try await Self.storage()
        await #expect(throws: StorageKeyError.self) { try await storage.write(key, bytes: [1]) }
        await #expect(throws: StorageKeyError.self) { try await storage.read(key) }
    }

    @Test func fileSystemStorageHasNoPresignedURLAndHeadsFiles() async throws {
        let folder = TestStack.repositoryRoot.appendingPathComponent(".run/test-private/\(TestStack.uniqueName("fs"))")
        var reader = ConfigurationReader(environment: ["PINGVAS_STORAGE_URL": "file://\(folder.path)"])
        let storage = ImageStorageFactory.make(StorageConfiguration.read(from: &reader), logger: Self.logger)
        try reader.validate()
        try await storage.write("u/i.png", bytes: Self.png)
        let head = try #require(try await storage.head("u/i.png"))
        #expect(head.size == Self.png.count)
        #expect(try await storage.head("u/other.png") == nil)
        #expect(try await storage.presignedURL(for: "u/i.png", expires: .seconds(60)) == nil)
        #expect(storage.cdnPath(for: "u/i.png") == nil)
    }
}
