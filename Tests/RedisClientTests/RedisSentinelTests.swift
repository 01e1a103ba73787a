import RedisClient
import Testing
import TestSupport

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
            await pool.close()

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

            #expect(await eventually(timeout: .seconds(10)) { writer.log.count >= 20 }, "no acknowledged writes before the kill")
            let oldMaster = topology.initialMasterPort
            let killedAt = ContinuousClock.now
            topology.kill(port: oldMaster)
            let countAtKill = writer.log.count

            let newMaster = try await topology.waitForNewMaster(replacing: oldMaster)
            #expect(newMaster == topology.initialReplicaPort)
            #expect(await eventually(timeout: .seconds(15)) { writer.log.count >= countAtKill + 20 }, "writes did not resume")
            writer.stop()
            await writing.value

            let log = writer.log
            let firstAfter = try #require(log.firstAcknowledged(after: killedAt), "no acknowledged write after the kill")
            print("sentinel failover: master killed -> first acknowledged write \(firstAfter - killedAt); \(writer.failures) failed attempts")
            #expect(firstAfter - killedAt < .seconds(10))

            // Every acknowledged INCR value is distinct and increasing: a lost one would be handed out again.
            let values = log.entries.map(\.counter)
            #expect(values == values.sorted() && Set(values).count == values.count, "INCR values repeat: \(values)")
            let final = try #require(try await topology.send(port: newMaster, ["GET", names.counter]).int)
            #expect(final >= values.max() ?? 0)
            // Every acknowledged XADD entry is on the new master.
            let ids = Set(try await topology.send(port: newMaster, ["XRANGE", names.stream, "-", "+"]).array?.compactMap { $0.array?.first?.string } ?? [])
            let missing = log.entries.map(\.streamID).filter { !ids.contains($0) }
            #expect(missing.isEmpty, "acknowledged stream entries lost: \(missing)")
            await pool.close()
        }
    }
}
