public import Foundation
import Synchronization

/// One of the seven executables, started as a real process on loopback.
///
/// Output goes to a log file under `.run/test-logs/`; `stop()` sends SIGTERM and waits, so a test
/// sees the exit status a Kubernetes pod would.
public final class ServiceProcess: Sendable {
    public let id: String
    public let port: Int
    public let logFile: URL
    private let pid: pid_t
    private let exitStatus = Mutex<Int32?>(nil)

    /// Directory of the built executables: the one holding the running test bundle, or `PINGVAS_BIN_DIR`.
    public static var binDirectory: URL {
        if let dir = ProcessInfo.processInfo.environment["PINGVAS_BIN_DIR"] { return URL(fileURLWithPath: dir) }
        return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    }

    public init(_ id: String, port: Int? = nil, environment: [String: String]) throws {
        self.id = id
        self.port = try port ?? TestStack.freePort()
        let logs = TestStack.repositoryRoot.appendingPathComponent(".run/test-logs")
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        logFile = logs.appendingPathComponent("\(id)-\(TestStack.uniqueName("run")).log")
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let executable = Self.binDirectory.appendingPathComponent(id)
        guard FileManager.default.isExecutableFile(atPath: executable.path) else {
            throw ServiceProcessError.notBuilt(executable.path)
        }
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PINGVAS_") }
        env["PINGVAS_HOST"] = "127.0.0.1"
        env["PINGVAS_PORT"] = String(self.port)
        env["PINGVAS_LOG_LEVEL"] = "debug"
        env.merge(environment) { _, new in new }
        pid = try ChildProcess.spawn([executable.path], environment: env, logPath: logFile.path)
    }

    /// The exit status, once the process has ended.
    public var terminationStatus: Int32? {
        exitStatus.withLock { status in
            if status == nil { status = ChildProcess.poll(pid) }
            return status
        }
    }

    public var baseURL: String { "http://127.0.0.1:\(port)" }
    public var isRunning: Bool { terminationStatus == nil }
    public var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    /// Freezes the process (SIGSTOP), e.g. to keep a worker from taking a job yet.
    public func pause() { kill(pid, SIGSTOP) }

    /// Lets a paused process run on (SIGCONT).
    public func resume() { kill(pid, SIGCONT) }

    /// Kills the process at once (SIGKILL), as a crash or an OOM kill would, and reaps it.
    public func kill9() {
        guard terminationStatus == nil else { return }
        kill(pid, SIGKILL)
        _ = ChildProcess.wait(pid)
        exitStatus.withLock { $0 = 128 + SIGKILL }
    }

    /// Waits up to `timeout` for the process to end by itself; its exit status, or nil if it still runs.
    public func waitForExit(timeout: Duration) async -> Int32? {
        try? await eventually(timeout: timeout, pollEvery: .milliseconds(50), "\(id) exited") { !isRunning }
        return terminationStatus
    }

    /// Sends SIGTERM and waits up to `timeout` for the exit; returns the exit status (nil: still running, then killed).
    @discardableResult
    public func stop(timeout: Duration = .seconds(15)) async -> Int32? {
        if let status = terminationStatus { return status }
        kill(pid, SIGCONT)
        kill(pid, SIGTERM)
        if let status = await waitForExit(timeout: timeout) { return status }
        kill(pid, SIGKILL)
        _ = ChildProcess.wait(pid)
        exitStatus.withLock { $0 = 128 + SIGKILL }
        return nil
    }

    deinit {
        if exitStatus.withLock({ $0 }) == nil, ChildProcess.poll(pid) == nil {
            kill(pid, SIGKILL)
            _ = ChildProcess.wait(pid)
        }
    }
}

public enum ServiceProcessError: Error, CustomStringConvertible {
    case notBuilt(String)

    public var description: String {
        switch self {
        case .notBuilt(let path): "executable \(path) is not built (swift build builds it)"
        }
    }
}

extension ServiceProcess {
    /// Runs one of the built executables with `arguments` to completion (a command, not a server):
    /// its exit status and everything it wrote to stdout and stderr. A command still running after
    /// `timeout` is killed, and the call throws `EventuallyTimeout` (with the command's output).
    public static func runCommand(
        _ id: String, _ arguments: [String], environment: [String: String] = [:], timeout: Duration = .seconds(300)
    ) async throws -> (status: Int32, output: String) {
        let executable = binDirectory.appendingPathComponent(id)
        guard FileManager.default.isExecutableFile(atPath: executable.path) else { throw ServiceProcessError.notBuilt(executable.path) }
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("\(TestStack.uniqueName(id)).log")
        defer { try? FileManager.default.removeItem(at: log) }
        var env = ProcessInfo.processInfo.environment
        env.merge(environment) { _, new in new }
        let pid = try ChildProcess.spawn([executable.path] + arguments, environment: env, logPath: log.path)
        let output = { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }
        do {
            let status = try await eventuallyValue(timeout: timeout, "`\(id) \(arguments.joined(separator: " "))` exited; its output:\n\(output().suffix(3000))") {
                ChildProcess.poll(pid)
            }
            return (status, output())
        } catch {
            kill(pid, SIGKILL)
            _ = ChildProcess.wait(pid)
            throw error
        }
    }
}
