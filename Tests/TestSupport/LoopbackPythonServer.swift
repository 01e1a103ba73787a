public import Foundation
import HTTPClient
import Logging

/// A Python test server from `Tests/Fixtures/<folder>` on a free loopback port: moto's S3, the fake
/// STS (`s3`), or the OTLP trace receiver (`otlp`).
///
/// The scripts exit when the test process ends, so a server started once per run (`MotoServer.shared()`)
/// never outlives it; `stop()` ends one sooner.
public final class LoopbackPythonServer: Sendable {
    public let port: Int
    public let logFile: URL
    private let pid: pid_t

    public var baseURL: String { "http://127.0.0.1:\(port)" }
    public var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    /// Starts `Tests/Fixtures/s3/<script> <port> <arguments...>` and waits until `GET /` answers
    /// (any status) within `timeout`; a missing Python module fails with what to install.
    public init(script: String, folder: String = "s3", arguments: [String] = [], timeout: Duration = .seconds(30)) async throws {
        let python = try Self.python()
        let path = TestStack.repositoryRoot.appendingPathComponent("Tests/Fixtures/\(folder)/\(script)").path
        let logs = TestStack.repositoryRoot.appendingPathComponent(".run/test-logs")
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        var attempt = 0
        while true {
            attempt += 1
            let port = try TestStack.freePort()
            let log = logs.appendingPathComponent("\(script)-\(TestStack.uniqueName("run")).log")
            let pid = try ChildProcess.spawn([python, path, String(port)] + arguments, environment: ProcessInfo.processInfo.environment, logPath: log.path)
            do {
                try await eventually(timeout: timeout, pollEvery: .milliseconds(100), "\(script) answers on 127.0.0.1:\(port)") {
                    if let status = ChildProcess.poll(pid) {
                        throw LoopbackServerError.exited(script, status, (try? String(contentsOf: log, encoding: .utf8)) ?? "")
                    }
                    let response = try? await Self.probe.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/", timeout: .seconds(2)))
                    return response != nil
                }
                self.port = port
                self.pid = pid
                self.logFile = log
                return
            } catch {
                kill(pid, SIGKILL)
                _ = ChildProcess.poll(pid)
                // The port may have been taken between the pick and the bind: try another.
                if attempt >= 3 { throw error }
                if case LoopbackServerError.exited(_, _, let output) = error, output.contains("ModuleNotFoundError") { throw error }
            }
        }
    }

    public func stop() {
        kill(pid, SIGTERM)
        _ = ChildProcess.wait(pid)
    }

    static let probe = CurlHTTPClient(logger: Logger(label: "test-probe"))

    /// `python3` from PATH (posix_spawn does not search it).
    static func python() throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for folder in path.split(separator: ":") {
            let candidate = "\(folder)/python3"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw LoopbackServerError.noPython
    }
}

public enum LoopbackServerError: Error, CustomStringConvertible {
    case noPython
    case exited(String, Int32, String)

    public var description: String {
        switch self {
        case .noPython: "python3 is not on PATH (scripts/deps.sh installs it)"
        case .exited(let script, let status, let log):
            "\(script) exited with status \(status) (a missing module? run scripts/deps.sh, which pip-installs 'moto[server]', botocore and opentelemetry-proto):\n\(log.suffix(2000))"
        }
    }
}

/// Runs a short Python script from `Tests/Fixtures/s3` with `arguments` to completion; its output.
public func runFixtureScript(_ script: String, _ arguments: [String], timeout: Duration = .seconds(60)) async throws -> (status: Int32, output: String) {
    let python = try LoopbackPythonServer.python()
    let path = TestStack.repositoryRoot.appendingPathComponent("Tests/Fixtures/s3/\(script)").path
    let log = FileManager.default.temporaryDirectory.appendingPathComponent("\(TestStack.uniqueName("script")).log")
    defer { try? FileManager.default.removeItem(at: log) }
    let pid = try ChildProcess.spawn([python, path] + arguments, environment: ProcessInfo.processInfo.environment, logPath: log.path)
    let output = { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }
    do {
        let status = try await eventuallyValue(timeout: timeout, pollEvery: .milliseconds(50), "\(script) exited") { ChildProcess.poll(pid) }
        return (status, output())
    } catch {
        kill(pid, SIGKILL)
        _ = ChildProcess.wait(pid)
        throw error
    }
}
