import RedisClient
import TestSupport
import Testing

extension RedisClientTests {
    /// Real processes: a master, a replica and three sentinels per test (`SentinelTopology`).
    @Suite("Redis Sentinel", .timeLimit(.minutes(3)))
    struct RedisSentinelTests {
        @Test("a pool configured only with sentinels and a master name writes to the master and reads back")
        func discoversMaster() async throws {
            let topology = try await SentinelTopology.start()
            defer { topology.stop() }
            // The URL names the replica: were its host used, the write below would answer READONLY.
            let pool = Sentinel.pool(topology, url: "redis://127.0.0.1:\(topology.initialReplicaPort)")
            let key = TestStack.uniqueName("discovered")
            _ = try await pool.send("SET", key, "v1")
            #expect(try await pool.send("GET", key) == .bulk(Array("v1".utf8)))
            #expect(try await topology.send(port: topology.initialMasterPort, ["GET", key]) == .bulk(Array("v1".utf8)))
            // The pool follows +switch-master on one sentinel, and stops when closed.
            try await eventually(timeout: .seconds(5), "one +switch-master watcher on the sentinels") { await Sentinel.watchers(topology) == 1 }
            await pool.close()
            try await eventually(timeout: .seconds(5), "no watcher after close()") { await Sentinel.watchers(topology) == 0 }

            // An unreachable sentinel first in the list is skipped.
            var withDeadSentinel = Sentinel.configuration(topology)
            withDeadSentinel.sentinels.insert(RedisSentinelEndpoint(host: "127.0.0.1", port: try TestStack.freePort()), at: 0)
            let second = RedisPool(configuration: withDeadSentinel, logger: Redis.logger)
            #expect(try await second.send("GET", key) == .bulk(Array("v1".utf8)))
            await second.close()

            // A master name the sentinels do not monitor: connectionFailed saying so.
            var unknown = Sentinel.configuration(topology)
            unknown.sentinelMaster = "no-such-master"
            let third = RedisPool(configuration: unknown, logger: Redis.logger)
            let error = await #expect(throws: RedisError.self) { try await third.ping() }
            #expect(error?.kind == .connectionFailed)
            #expect(error?.detail.contains("does not monitor a master named 'no-such-master'") == true, "\(String(describing: error))")
            await third.close()
        }

        @Test("kill -9 of the master during writes: writes resume on the new master and no write acknowledged by WAIT is lost")
        func failoverDuringWrites() async throws {
            let topology = try await SentinelTopology.start()
            defer { topology.stop() }
            let pool = Sentinel.pool(topology)
            let names = (counter: TestStack.uniqueName("counter"), stream: TestStack.uniqueName("stream"))
            let writer = AcknowledgedWriter(pool: pool, counter: names.counter, stream: names.stream)
            let writing = Task { await writer.run(for: .seconds(90)) }
            defer { writer.stop() }  // also when a wait below throws

            try await eventually(timeout: .seconds(10), "20 acknowledged writes before the kill") { writer.entries.filter(\.acknowledged).count >= 20 }
            let oldMaster = topology.initialMasterPort
            let killedAt = ContinuousClock.now
            topology.kill(port: oldMaster)

            let newMaster = try await topology.waitForNewMaster(replacing: oldMaster)
            #expect(newMaster == topology.initialReplicaPort)
            // With its replica dead, the new master answers WAIT with 0 after 1 s: writes succeed, unacknowledged.
            try await eventually(timeout: .seconds(20), "writes resume on the new master") { writer.entries.filter { $0.sentAt > killedAt }.count >= 3 }
            writer.stop()
            await writing.value

            let entries = writer.entries
            let before = entries.filter { $0.sentAt < killedAt && $0.acknowledged }
            let after = entries.filter { $0.sentAt > killedAt }
            guard let first = after.first else { return }
            print("sentinel failover: master killed -> first successful write \(first.sentAt - killedAt); \(writer.failures) failed attempts")
            #expect(first.sentAt - killedAt < .seconds(10))

            // INCR: the new master continues above every acknowledged value (a lost one would be handed out again).
            let highest = before.map(\.counter).max() ?? 0
            #expect(after.allSatisfy { $0.counter > highest }, "values repeat after the failover: \(after.prefix(5)) <= \(highest)")
            let final = try await topology.send(port: newMaster, ["GET", names.counter]).int
            #expect((final ?? 0) >= after.last?.counter ?? 0)
            // XADD: every acknowledged entry is on the new master.
            let stored = try await topology.send(port: newMaster, ["XRANGE", names.stream, "-", "+"]).array ?? []
            let ids = Set(stored.compactMap { $0.array?.first?.string })
            let missing = before.filter { !ids.contains($0.streamID) }
            #expect(missing.isEmpty, "acknowledged stream entries lost: \(missing.prefix(10))")
            #expect(before.count >= 20)
            await pool.close()
        }

        @Test("SENTINEL FAILOVER during writes: the pool follows +switch-master before the old master is demoted")
        func manualFailoverDuringWrites() async throws {
            let topology = try await SentinelTopology.start()
            defer { topology.stop() }
            let pool = Sentinel.pool(topology)
            let names = (counter: TestStack.uniqueName("counter"), stream: TestStack.uniqueName("stream"))
            let writer = AcknowledgedWriter(pool: pool, counter: names.counter, stream: names.stream)
            let writing = Task { await writer.run(for: .seconds(90)) }
            defer { writer.stop() }  // also when a wait below throws
            try await eventually(timeout: .seconds(10), "20 writes before the failover") { writer.entries.count >= 20 }

            let oldMaster = topology.initialMasterPort
            let requestedAt = ContinuousClock.now
            try await topology.failover()
            let newMaster = try await topology.waitForNewMaster(replacing: oldMaster)
            let switchedAt = ContinuousClock.now
            // The old master runs on as a master for some seconds; writes must already go to the new one.
            try await eventually(timeout: .seconds(5), "a write after the switch") { writer.entries.contains { $0.sentAt > switchedAt } }
            writer.stop()
            await writing.value
            let stored = try await topology.send(port: newMaster, ["XRANGE", names.stream, "-", "+"]).array ?? []
            let ids = Set(stored.compactMap { $0.array?.first?.string })
            let entries = writer.entries
            let afterSwitch = entries.filter { $0.sentAt > switchedAt }
            #expect(!afterSwitch.isEmpty && afterSwitch.allSatisfy { ids.contains($0.streamID) }, "writes after the switch missed the new master")
            let lost = entries.filter { $0.acknowledged && !ids.contains($0.streamID) }
            #expect(lost.isEmpty, "acknowledged writes lost: \(lost.prefix(10))")
            if let first = afterSwitch.first {
                print("sentinel manual failover: requested -> sentinels agree \(switchedAt - requestedAt); first write on the new master \(first.sentAt - requestedAt)")
            }
            await pool.close()
        }
    }
}
