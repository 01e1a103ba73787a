import Foundation
import HTTPClient
import Logging
import ServiceKit
import TestSupport
import Testing

/// Web-identity credentials (EKS service accounts) from a fake STS on loopback: obtained with the
/// projected token, cached, refreshed before they expire, and used to sign S3 requests.
@Suite(.timeLimit(.minutes(2))) struct WebIdentityCredentialsTests {
    static let logger = Logger(label: "test")

    static func tokenFile(_ token: String) throws -> URL {
        let file = TestStack.repositoryRoot.appendingPathComponent(".run/test-private/\(TestStack.uniqueName("token"))")
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(token.utf8).write(to: file)
        return file
    }

    @Test func credentialsAreObtainedCachedAndRefreshedBeforeExpiry() async throws {
        // Credentials live 6 s; refreshed once less than 4 s are left, so a refresh is due after about 2 s.
        let sts = try await LoopbackPythonServer(script: "fake_sts.py", arguments: ["6"])
        defer { sts.stop() }
        let file = try Self.tokenFile("projected-token-1")
        let provider = WebIdentityCredentialsProvider(
            settings: .init(roleARN: "arn:aws:iam::123456789012:role/pingvas-images", tokenFile: file.path, region: "eu-west-1",
                            endpoint: sts.baseURL + "/", refreshMargin: .seconds(4)),
            client: CurlHTTPClient(logger: Self.logger), logger: Self.logger
        )
        let first = try await provider.credentials()
        #expect(first.accessKeyID == "ASIAFAKE00000001")
        #expect(first.sessionToken == "session-1-arn:aws:iam::123456789012:role/pingvas-images-projected-token-1")
        #expect(try #require(first.expiration).timeIntervalSinceNow > 3)
        #expect(try await provider.credentials() == first, "still fresh: served from the cache")

        // The kubelet rotates the token file; the next fetch reads the new one.
        try Data("projected-token-2".utf8).write(to: file)
        let refreshed = try await eventuallyValue(timeout: .seconds(10), pollEvery: .milliseconds(100), "credentials refreshed") {
            let current = try await provider.credentials()
            return current.accessKeyID != first.accessKeyID ? current : nil
        }
        #expect(refreshed.accessKeyID == "ASIAFAKE00000002")
        #expect(refreshed.sessionToken?.hasSuffix("projected-token-2") == true)
        #expect(try #require(refreshed.expiration) > first.expiration!)
    }

    @Test func concurrentCallersShareOneSTSCall() async throws {
        let sts = try await LoopbackPythonServer(script: "fake_sts.py", arguments: ["3600"])
        defer { sts.stop() }
        let provider = WebIdentityCredentialsProvider(
            settings: .init(roleARN: "arn:aws:iam::1:role/r", tokenFile: try Self.tokenFile("t").path, region: "us-east-1", endpoint: sts.baseURL + "/"),
            client: CurlHTTPClient(logger: Self.logger), logger: Self.logger
        )
        let keys = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<20 { group.addTask { try await provider.credentials().accessKeyID } }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        #expect(keys == ["ASIAFAKE00000001"])
    }

    @Test func anSTSRefusalIsAnErrorWithoutSecrets() async throws {
        let sts = try await LoopbackPythonServer(script: "fake_sts.py", arguments: ["3600"])
        defer { sts.stop() }
        let provider = WebIdentityCredentialsProvider(
            settings: .init(roleARN: "arn:aws:iam::1:role/r", tokenFile: try Self.tokenFile("").path, region: "us-east-1", endpoint: sts.baseURL + "/"),
            client: CurlHTTPClient(logger: Self.logger), logger: Self.logger
        )
        let error = await #expect(throws: ObjectStorageError.self) { try await provider.credentials() }
        #expect(error?.description == "object storage AssumeRoleWithWebIdentity answered 400 InvalidParameterValue")
        let missing = WebIdentityCredentialsProvider(
            settings: .init(roleARN: "r", tokenFile: "/nonexistent/token", region: "us-east-1", endpoint: sts.baseURL + "/"),
            client: CurlHTTPClient(logger: Self.logger), logger: Self.logger
        )
        await #expect(throws: ObjectStorageError.self) { try await missing.credentials() }
    }

    @Test func s3StorageWithWebIdentityStoresImages() async throws {
        let sts = try await LoopbackPythonServer(script: "fake_sts.py", arguments: ["3600"])
        defer { sts.stop() }
        let bucket = try await MotoServer.makeBucket()
        var reader = ConfigurationReader(environment: [
            "PINGVAS_STORAGE_URL": "s3://\(bucket)", "PINGVAS_S3_ENDPOINT": try await MotoServer.endpoint(),
            "AWS_ROLE_ARN": "arn:aws:iam::1:role/r", "AWS_WEB_IDENTITY_TOKEN_FILE": try Self.tokenFile("t").path,
            "PINGVAS_STS_ENDPOINT": sts.baseURL + "/",
        ])
        let storage = ImageStorageFactory.make(StorageConfiguration.read(from: &reader), logger: Self.logger)
        try reader.validate()
        try await storage.write("u/i.png", bytes: [1, 2, 3])
        #expect(try await storage.read("u/i.png") == [1, 2, 3])
        let url = try #require(try await storage.presignedURL(for: "u/i.png", expires: .seconds(60)))
        #expect(url.query?.contains("X-Amz-Security-Token=session-1") == true)
        #expect(url.query?.contains("X-Amz-Credential=ASIAFAKE00000001") == true)
    }
}
