import Foundation
import HTTPClient
import Hummingbird
import Logging
import ServiceKit
import Synchronization
import Testing

/// How `S3ImageStorage` meets a failing server: a fake S3 on loopback that answers 503 a number of
/// times (then 200), or refuses with S3's XML error.
@Suite(.timeLimit(.minutes(2))) struct S3FailureTests {
    /// Serves `PUT`/`GET /bucket/<key>`: 503 `SlowDown` for the first `failures` requests, then 200;
    /// `GET .../denied.png` is always 403 `AccessDenied`.
    static func withFakeS3(failures: Int, _ body: (String, RequestCount) async throws -> Void) async throws {
        let requests = RequestCount()
        let router = Router()
        router.on("/{bucket}/**", method: .put) { _, _ in try Self.answer(requests, failures: failures) }
        router.on("/{bucket}/**", method: .get) { request, _ in
            if request.uri.path.hasSuffix("denied.png") {
                _ = requests.next()
                return Response(status: .forbidden, body: .init(byteBuffer: ByteBuffer(string: "<Error><Code>AccessDenied</Code><Message>no</Message></Error>")))
            }
            return try Self.answer(requests, failures: failures)
        }
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        var logger = Logger(label: "fake-s3")
        logger.logLevel = .critical
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
                continuation.finish()
            },
            logger: logger
        )
        let task = Task { try await app.runService(gracefulShutdownSignals: []) }
        defer { task.cancel() }
        var iterator = ports.makeAsyncIterator()
        let port = try #require(await iterator.next())
        try await body("http://127.0.0.1:\(port)", requests)
    }

    final class RequestCount: Sendable {
        private let value = Mutex(0)
        func next() -> Int { value.withLock { $0 += 1; return $0 } }
        var count: Int { value.withLock { $0 } }
    }

    static func answer(_ requests: RequestCount, failures: Int) throws -> Response {
        let count = requests.next()
        guard count > failures else {
            return Response(status: .serviceUnavailable, body: .init(byteBuffer: ByteBuffer(string: "<Error><Code>SlowDown</Code></Error>")))
        }
        return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "ok")))
    }

    static func storage(_ endpoint: String) -> S3ImageStorage {
        S3ImageStorage(
            location: .init(bucket: "images", endpoint: URL(string: endpoint), region: "us-east-1"),
            credentials: StaticCredentialsProvider(AWSCredentials(accessKeyID: "AKIAFAIL", secretAccessKey: "super-secret-key")),
            client: CurlHTTPClient(logger: Logger(label: "test")), logger: Logger(label: "test")
        )
    }

    @Test func serverErrorsAreTriedThreeTimes() async throws {
        try await Self.withFakeS3(failures: 2) { endpoint, requests in
            try await Self.storage(endpoint).write("u/i.png", bytes: [1, 2, 3])
            #expect(requests.count == 3, "two 503s, then the write went through")
        }
        try await Self.withFakeS3(failures: 10) { endpoint, requests in
            let error = await #expect(throws: ObjectStorageError.self) { try await Self.storage(endpoint).write("u/i.png", bytes: [1]) }
            #expect(error?.description == "object storage PUT answered 503 SlowDown")
            #expect(requests.count == 3, "no more than three attempts")
        }
    }

    @Test func aRefusalIsAnErrorNamingS3sCodeButNoSecret() async throws {
        try await Self.withFakeS3(failures: 0) { endpoint, requests in
            let error = await #expect(throws: ObjectStorageError.self) { try await Self.storage(endpoint).read("u/denied.png") }
            #expect(error?.description == "object storage GET answered 403 AccessDenied")
            #expect(requests.count == 1, "a 4xx is not retried")
            #expect(!"\(String(describing: error))".contains("super-secret-key"))
        }
    }
}
