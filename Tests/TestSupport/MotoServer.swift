import Foundation
import HTTPClient
import Logging
import Synchronization

/// moto's S3 server (PyPI `moto[server]`), started once per test process on a free loopback port.
///
/// Tests take a bucket of their own (`makeBucket()`), so suites share the server and run in parallel.
/// moto does not check signatures; the SigV4 tests compare with botocore for that.
public enum MotoServer {
    private static let started = Mutex<Task<LoopbackPythonServer, any Error>?>(nil)

    /// The running server (started on first use; readiness within 60 s or a failure saying what to install).
    public static func shared() async throws -> LoopbackPythonServer {
        let task = started.withLock { task in
            if let task { return task }
            let new = Task { try await LoopbackPythonServer(script: "moto_server.py", timeout: .seconds(60)) }
            task = new
            return new
        }
        return try await task.value
    }

    /// The endpoint URL to give `PINGVAS_S3_ENDPOINT`.
    public static func endpoint() async throws -> String {
        try await shared().baseURL
    }

    /// Creates a fresh bucket; its name.
    public static func makeBucket() async throws -> String {
        let server = try await shared()
        let bucket = TestStack.uniqueName("bucket").replacingOccurrences(of: "_", with: "-")
        let response = try await LoopbackPythonServer.probe.execute(HTTPClientRequest(method: "PUT", url: "\(server.baseURL)/\(bucket)", timeout: .seconds(10)))
        guard response.status == 200 else { throw LoopbackServerError.exited("moto: create bucket", Int32(response.status), response.bodyText) }
        return bucket
    }

    /// The object keys in `bucket` (moto lists without checking a signature).
    public static func keys(in bucket: String) async throws -> [String] {
        let server = try await shared()
        let response = try await LoopbackPythonServer.probe.execute(HTTPClientRequest(url: "\(server.baseURL)/\(bucket)?list-type=2", timeout: .seconds(10)))
        let xml = response.bodyText
        var keys: [String] = []
        var rest = xml[...]
        while let open = rest.range(of: "<Key>"), let close = rest.range(of: "</Key>", range: open.upperBound..<rest.endIndex) {
            keys.append(String(rest[open.upperBound..<close.lowerBound]))
            rest = rest[close.upperBound...]
        }
        return keys.sorted()
    }
}
