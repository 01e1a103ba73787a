public import Foundation

/// One of the seven executables, started as a real process on loopback.
///
/// Output goes to a log file under `.run/test-logs/`; `stop()` sends SIGTERM and waits, so a test
/// sees the exit status a Kubernetes pod would.
public final class ServiceProcess: @unchecked Sendable {
    // @unchecked: `process` is configured in init and afterwards only read or signalled, which
    // Foundation's Process allows from any thread.
    public let id: String
    public let port: Int
    public let logFile: URL
    private let process: Process

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
        FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let executable = Self.binDirectory.appendingPathComponent(id)
        guard FileManager.default.isExecutableFile(atPath: executable.path) else {
            throw ServiceProcessError.notBuilt(executable.path)
        }
        process = Process()
        process.executableURL = executable
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PINGVAS_") }
        env["PINGVAS_HOST"] = "127.0.0.1"
        env["PINGVAS_PORT"] = String(self.port)
        env["PINGVAS_LOG_LEVEL"] = "debug"
        env.merge(environment) { _, new in new }
        process.environment = env
        let handle = try FileHandle(forWritingTo: logFile)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
    }

    public var baseURL: String { "http://127.0.0.1:\(port)" }
    public var isRunning: Bool { process.isRunning }
    public var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    /// Freezes the process (SIGSTOP), e.g. to keep a worker from taking a job yet.
    public func pause() { kill(process.processIdentifier, SIGSTOP) }

    /// Lets a paused process run on (SIGCONT).
    public func resume() { kill(process.processIdentifier, SIGCONT) }

    /// Sends SIGTERM and waits up to `timeout` for the exit; returns the exit status (nil: still running, then killed).
    @discardableResult
    public func stop(timeout: Duration = .seconds(15)) async -> Int32? {
        guard process.isRunning else { return process.terminationStatus }
        kill(process.processIdentifier, SIGTERM)
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return nil
        }
        return process.terminationStatus
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
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

/// Polls `probe` every 100 ms until it returns true or `timeout` passes; returns whether it did.
public func eventually(timeout: Duration = .seconds(15), _ probe: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if await probe() { return true }
        try? await Task.sleep(for: .milliseconds(100))
    }
    return await probe()
}
