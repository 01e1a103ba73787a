import Foundation
import RedisClient
import Synchronization

/// Starting the processes and waiting for the states a failover test needs, each with a deadline.
extension SentinelTopology {
    func launch(keepClientsOnDemotion: Bool) async throws {
        let master = initialMasterPort
        for (index, port) in nodePorts.enumerated() {
            var lines = ["port \(port)", "bind 127.0.0.1", "save \"\"", "appendonly no"]
            if index > 0 { lines.append("replicaof 127.0.0.1 \(master)") }
            try spawn(port: port, lines: lines, sentinel: false)
        }
        for port in nodePorts {
            try await eventually(timeout: .seconds(10), pollEvery: .milliseconds(50), "node \(port) answers\(logs)") {
                await role(port: port) != nil
            }
        }
        for port in sentinelPorts {
            var lines = [
                "port \(port)", "bind 127.0.0.1",
                "sentinel monitor \(masterName) 127.0.0.1 \(master) 2",
                "sentinel down-after-milliseconds \(masterName) 1000",
                "sentinel failover-timeout \(masterName) 5000",
                "sentinel parallel-syncs \(masterName) 1",
            ]
            if keepClientsOnDemotion { lines.append("sentinel rename-command \(masterName) CLIENT EXISTS") }
            try spawn(port: port, lines: lines, sentinel: true)
        }
        try await eventually(timeout: .seconds(10), pollEvery: .milliseconds(50), "the replica is in sync\(logs)") {
            (try? await send(port: initialReplicaPort, ["ROLE"]).array?[3].string) == "connected"
        }
        try await waitForSentinels(timeout: .seconds(30))
    }

    /// Waits until every sentinel knows one replica and the two other sentinels, and `SENTINEL CKQUORUM` passes.
    public func waitForSentinels(timeout: Duration = .seconds(30)) async throws {
        for port in sentinelPorts {
            try await eventually(timeout: timeout, pollEvery: .milliseconds(50), "sentinel \(port) sees the replica, its peers and a quorum\(logs)") {
                let replicas = try? await send(port: port, ["SENTINEL", "replicas", masterName]).array?.count
                let peers = try? await send(port: port, ["SENTINEL", "sentinels", masterName]).array?.count
                let quorum = try? await send(port: port, ["SENTINEL", "ckquorum", masterName])
                return replicas == 1 && peers == 2 && quorum != nil
            }
        }
    }

    /// Waits until every running sentinel names the same master other than `oldPort`, and that node
    /// answers `ROLE` with `master`; returns its port.
    public func waitForNewMaster(replacing oldPort: Int, timeout: Duration = .seconds(30)) async throws -> Int {
        try await eventuallyValue(timeout: timeout, pollEvery: .milliseconds(50), "the sentinels name a new master instead of \(oldPort)\(logs)") {
            var named: Set<Int?> = []
            for port in sentinelPorts { named.insert(await masterPort(accordingTo: port)) }
            guard named.count == 1, let port = named.first ?? nil, port != oldPort else { return nil }
            return await role(port: port) == "master" ? port : nil
        }
    }

    /// `SENTINEL FAILOVER` (a manual failover: the old master stays up and is demoted to a replica),
    /// repeated until a sentinel accepts it (it refuses while it has no fresh replica information).
    public func failover(timeout: Duration = .seconds(15)) async throws {
        try await eventually(timeout: timeout, pollEvery: .milliseconds(100), "a sentinel accepts SENTINEL FAILOVER\(logs)") {
            (try? await send(port: sentinelPorts[0], ["SENTINEL", "FAILOVER", masterName])) != nil
        }
    }

    /// Where to read the processes' logs, for the message of a wait that timed out.
    private var logs: String { " (logs: \(folders.map { "\($0)/redis.log" }.joined(separator: " ")))" }

    /// Writes the config (a sentinel rewrites its own) and starts `redis-server` in the foreground.
    private func spawn(port: Int, lines: [String], sentinel: Bool) throws {
        let folder = folders[(nodePorts + sentinelPorts).firstIndex(of: port)!]
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let config = "\(folder)/redis.conf"
        let all = lines + ["dir \(folder)", "pidfile \(folder)/redis.pid", "logfile \"\"", "daemonize no"]
        try (all.joined(separator: "\n") + "\n").write(toFile: config, atomically: true, encoding: .utf8)
        let server = try Self.redisServer()
        let pid = try ChildProcess.spawn(
            [server, config] + (sentinel ? ["--sentinel"] : []),
            environment: ProcessInfo.processInfo.environment, logPath: "\(folder)/redis.log"
        )
        pids.withLock { $0[port] = pid }
    }

    /// `redis-server` from `PATH` (posix_spawn does not search it).
    static func redisServer() throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") where FileManager.default.isExecutableFile(atPath: "\(directory)/redis-server") {
            return "\(directory)/redis-server"
        }
        throw SentinelTopologyError.redisServerMissing
    }
}

public enum SentinelTopologyError: Error, CustomStringConvertible {
    case redisServerMissing

    public var description: String {
        switch self {
        case .redisServerMissing: "redis-server not found on PATH (make deps)"
        }
    }
}
