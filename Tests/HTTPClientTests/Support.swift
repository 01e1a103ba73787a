import Foundation
import HTTPClient
import Logging

/// A client for one test, shut down afterwards whatever the outcome.
func withClient<T>(
    _ configuration: HTTPClientConfiguration = .init(),
    _ body: (CurlHTTPClient) async throws -> T
) async throws -> T {
    let client = CurlHTTPClient(configuration: configuration, logger: Logger(label: "http-client-test"))
    do {
        let result = try await body(client)
        await client.shutdown()
        return result
    } catch {
        await client.shutdown()
        throw error
    }
}

/// Threads of this process right now.
func currentThreadCount() throws -> Int {
    try FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count
}

/// Runs `body` and returns the error it throws, or `nil`.
func thrownError<T>(_ body: () async throws -> T) async -> (any Error)? {
    do {
        _ = try await body()
        return nil
    } catch {
        return error
    }
}

extension Duration {
    var milliseconds: Double {
        Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15
    }
}
