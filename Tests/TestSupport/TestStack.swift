public import Foundation
import Synchronization

/// Addresses of a running PostgreSQL + Redis pair started through `scripts/stack.sh`.
public struct TestServers: Sendable {
    public let directory: String
    public let postgresPort: Int
    public let redisPort: Int

    public var databaseURL: String { "postgresql://pingvas@127.0.0.1:\(postgresPort)/pingvas" }
    public var redisURL: String { "redis://127.0.0.1:\(redisPort)" }

    /// Runs `scripts/stack.sh <verb> <what>` against this stack's folder and ports.
    public func stack(_ verb: String, _ what: String = "all") throws {
        try TestStack.runScript([verb, what], directory: directory, postgresPort: postgresPort, redisPort: redisPort)
    }
}

/// Starts the real servers the tests run against.
///
/// The shared stack lives in `.run/test` (ports `PINGVAS_TEST_PG_PORT` / `PINGVAS_TEST_REDIS_PORT`,
/// default 25432 / 26379) and is started once per test process; the script is idempotent, so
/// `make test` may start it beforehand and stop it afterwards. Tests that stop or restart a server
/// take a private stack on free ports instead, so they never disturb the others.
public enum TestStack {
    /// Root of the repository, found from this file's location.
    public static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    private static let sharedState = Mutex<TestServers?>(nil)

    /// The shared stack, started on first use.
    public static func shared() throws -> TestServers {
        try sharedState.withLock { state in
            if let state { return state }
            let env = ProcessInfo.processInfo.environment
            let servers = TestServers(
                directory: env["PINGVAS_TEST_STACK_DIR"] ?? repositoryRoot.appendingPathComponent(".run/test").path,
                postgresPort: Int(env["PINGVAS_TEST_PG_PORT"] ?? "") ?? 25432,
                redisPort: Int(env["PINGVAS_TEST_REDIS_PORT"] ?? "") ?? 26379
            )
            try servers.stack("start")
            state = servers
            return servers
        }
    }

    /// A stack of its own in a fresh folder on free ports; the caller stops it (`stack("stop")`).
    /// A port can still be taken between the pick and the server's bind (by another test's server),
    /// so a start that fails is cleaned up and tried again on other ports.
    public static func startPrivate(_ what: String = "all") throws -> TestServers {
        var attempt = 0
        while true {
            attempt += 1
            let folder = repositoryRoot.appendingPathComponent(".run/test-private/\(uniqueName("stack"))").path
            let servers = TestServers(directory: folder, postgresPort: try freePort(), redisPort: try freePort())
            do {
                try servers.stack("start", what)
                return servers
            } catch {
                try? servers.stack("stop")
                if attempt >= 3 { throw error }
            }
        }
    }

    /// A name no other test in this run uses: for schemas, keys, streams and channels.
    public static func uniqueName(_ prefix: String) -> String {
        "\(prefix)_\(UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: ""))"
    }

    /// A TCP port on 127.0.0.1 that was free a moment ago, below Linux's ephemeral range (32768+),
    /// so that the local ports of the tests' own outgoing connections cannot take it before the
    /// server that is meant to listen there starts.
    /// A port nothing listens on now and this process has not handed out before: a port is only
    /// bound by its user later, so two draws of the same free port (suites run in parallel, a
    /// service suite takes seven) would both be "free" and the second server would fail to bind.
    public static func freePort() throws -> Int {
        for _ in 0..<200 {
            let port = Int.random(in: 20000..<32000)
            if canBind(port), handedOut.withLock({ $0.insert(port).inserted }) { return port }
        }
        guard let port = boundPort(0), handedOut.withLock({ $0.insert(port).inserted }) else { throw TestStackError.noFreePort }
        return port
    }

    private static let handedOut = Mutex<Set<Int>>([])

    static func canBind(_ port: Int) -> Bool { boundPort(port) != nil }

    /// Binds a socket to 127.0.0.1:`port` (0: any) and closes it again; the port it got, or nil.
    static func boundPort(_ port: Int) -> Int? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa -> Bool in
                bind(fd, sa, length) == 0 && getsockname(fd, sa, &length) == 0
            }
        }
        return bound ? Int(UInt16(bigEndian: address.sin_port)) : nil
    }

    static func runScript(_ arguments: [String], directory: String, postgresPort: Int, redisPort: Int) throws {
        var env = ProcessInfo.processInfo.environment
        env["PINGVAS_STACK_DIR"] = directory
        env["PINGVAS_PG_PORT"] = String(postgresPort)
        env["PINGVAS_REDIS_PORT"] = String(redisPort)
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("stack-\(UUID().uuidString).log").path
        defer { try? FileManager.default.removeItem(atPath: log) }
        let script = repositoryRoot.appendingPathComponent("scripts/stack.sh").path
        let pid = try ChildProcess.spawn(["/bin/bash", script] + arguments, environment: env, logPath: log)
        let status = ChildProcess.wait(pid)
        guard status == 0 else {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            throw TestStackError.scriptFailed(arguments.joined(separator: " "), text)
        }
    }
}

public enum TestStackError: Error, CustomStringConvertible {
    case noFreePort
    case scriptFailed(String, String)

    public var description: String {
        switch self {
        case .noFreePort: "could not find a free TCP port on 127.0.0.1"
        case .scriptFailed(let command, let output): "scripts/stack.sh \(command) failed:\n\(output)"
        }
    }
}
