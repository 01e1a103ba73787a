public import Foundation
import Logging
package import RedisClient
import Synchronization

/// A Redis Sentinel setup of real processes on free 127.0.0.1 ports, for failover tests: a master,
/// one replica (`replicaof`) and three sentinels (`redis-server --sentinel`; quorum 2,
/// `down-after-milliseconds` 1000, `failover-timeout` 5000).
///
/// Every process gets a folder of its own, `.run/test-private/<name>-<port>/redis/` holding its config,
/// log and `redis.pid`: the layout `scripts/test.sh` already sweeps, so even a crashed test run leaves
/// nothing running. `stop()` (and `deinit`) kills every process that is still alive.
public final class SentinelTopology: Sendable {
    public let masterName: String
    /// The data nodes: `[initial master, initial replica]`.
    public let nodePorts: [Int]
    public let sentinelPorts: [Int]
    /// The process folders, for reading logs when a test fails.
    public let folders: [String]
    /// Port -> pid of the processes not yet killed and reaped.
    let pids: Mutex<[Int: pid_t]>

    public var initialMasterPort: Int { nodePorts[0] }
    public var initialReplicaPort: Int { nodePorts[1] }
    package var sentinels: [RedisSentinelEndpoint] { sentinelPorts.map { RedisSentinelEndpoint(host: "127.0.0.1", port: $0) } }

    /// Starts the five processes and waits (up to 30 s) until the replica is in sync and every sentinel
    /// knows the replica and the two other sentinels and can reach its quorum.
    ///
    /// `keepClientsOnDemotion`: a sentinel normally disconnects every client of a master it demotes
    /// (`CLIENT KILL TYPE normal`); with this its `CLIENT` commands become a harmless `EXISTS`
    /// (`sentinel rename-command`), so connections survive the demotion and meet `-READONLY`, as they
    /// do wherever that kill does not reach them.
    public static func start(masterName: String = "pingvas", keepClientsOnDemotion: Bool = false) async throws -> SentinelTopology {
        var attempt = 0
        while true {
            attempt += 1
            var ports: [Int] = []
            while ports.count < 5 {
                let port = try TestStack.freePort()
                if !ports.contains(port) { ports.append(port) }
            }
            let topology = SentinelTopology(masterName: masterName, ports: ports)
            do {
                try await topology.launch(keepClientsOnDemotion: keepClientsOnDemotion)
                return topology
            } catch {
                topology.stop()
                if attempt >= 3 { throw error }
            }
        }
    }

    private init(masterName: String, ports: [Int]) {
        self.masterName = masterName
        self.nodePorts = Array(ports[0..<2])
        self.sentinelPorts = Array(ports[2..<5])
        let name = TestStack.uniqueName("sentinel")
        self.folders = ports.map { TestStack.repositoryRoot.appendingPathComponent(".run/test-private/\(name)-\($0)/redis").path }
        self.pids = Mutex([:])
    }

    deinit { stop() }

    /// Kills (SIGKILL) and reaps every process still running; safe to call more than once.
    public func stop() {
        for port in nodePorts + sentinelPorts { kill(port: port) }
    }

    /// Kills the process on `port` with SIGKILL, as a crash would, and reaps it.
    public func kill(port: Int) {
        guard let pid = pids.withLock({ $0.removeValue(forKey: port) }) else { return }
        _ = Foundation.kill(pid, SIGKILL)
        _ = ChildProcess.wait(pid)
    }

    /// Sends one command to the server on `port` (a node or a sentinel) over a short-lived connection.
    package func send(port: Int, _ arguments: [String], timeout: Duration = .seconds(2)) async throws -> RedisValue {
        let configuration = RedisConfiguration(
            url: "redis://127.0.0.1:\(port)", maxConnections: 1, connectTimeout: .milliseconds(500), commandTimeout: timeout
        )
        let pool = RedisPool(configuration: configuration, logger: Self.logger)
        do {
            let reply = try await pool.send(arguments)
            await pool.close()
            return reply
        } catch {
            await pool.close()
            throw error
        }
    }

    /// The master's port as the sentinel on `sentinelPort` reports it; nil if it does not answer.
    public func masterPort(accordingTo sentinelPort: Int) async -> Int? {
        let reply = try? await send(port: sentinelPort, ["SENTINEL", "get-master-addr-by-name", masterName])
        return reply?.array.flatMap { $0.count == 2 ? $0[1].int.map(Int.init) : nil }
    }

    /// The first element of `ROLE` on `port` (`master`, `slave`); nil if the node does not answer.
    public func role(port: Int) async -> String? {
        try? await send(port: port, ["ROLE"]).array?.first?.string
    }

    static let logger: Logger = {
        var logger = Logger(label: "sentinel-topology")
        logger.logLevel = .critical
        return logger
    }()
}
