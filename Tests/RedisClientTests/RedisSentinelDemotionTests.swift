import RedisClient
import TestSupport
import Testing

extension RedisClientTests {
    /// A master that stays up and is demoted (`SENTINEL FAILOVER`), and a subscriber following a crash.
    @Suite("Redis Sentinel failover: demotion and pub/sub", .timeLimit(.minutes(3)))
    struct RedisSentinelDemotionTests {
        @Test("a connection to a demoted master answers READONLY once, then the pool finds the new master")
        func readOnlyMakesThePoolRediscover() async throws {
            // Connections to the old master survive its demotion here (see keepClientsOnDemotion), and the
            // pool ignores +switch-master: READONLY is all that tells it about the failover.
            let topology = try await SentinelTopology.start(keepClientsOnDemotion: true)
            defer { topology.stop() }
            let pool = Sentinel.pool(topology, maxConnections: 1, followsSwitchEvents: false)
            let key = TestStack.uniqueName("demoted")
            _ = try await pool.send("SET", key, "before")
            let oldMaster = topology.initialMasterPort

            try await topology.failover()
            let newMaster = try await topology.waitForNewMaster(replacing: oldMaster)
            // Sentinel reconfigures the old master as a replica some seconds after promoting the new one.
            try await eventually(timeout: .seconds(30), "the old master is demoted") { await topology.role(port: oldMaster) == "slave" }

            // The pooled connection still points at the old master: the write is refused, not retried.
            let error = await #expect(throws: RedisError.self) { try await pool.send("SET", key, "refused") }
            #expect(error?.serverCode == "READONLY", "\(String(describing: error))")
            // That connection was dropped; the next one goes through the sentinels to the new master.
            _ = try await pool.send("SET", key, "after")
            #expect(try await topology.send(port: newMaster, ["GET", key]) == .bulk(Array("after".utf8)))
            #expect(try await pool.send("GET", key) == .bulk(Array("after".utf8)))
            #expect(try await topology.send(port: newMaster, ["CLIENT", "LIST"]).string?.contains("cmd=get") == true)
            await pool.close()
        }

        @Test("a subscriber keeps receiving messages published after the master was killed")
        func subscriberFollowsTheMaster() async throws {
            let topology = try await SentinelTopology.start()
            defer { topology.stop() }
            let pool = Sentinel.pool(topology)
            let subscriber = Sentinel.subscriber(topology)
            let channel = TestStack.uniqueName("failover")
            let collector = MessageCollector(try await subscriber.subscribe([channel]))
            try await pool.publish(channel, "before")
            #expect(try await collector.wait(for: 1).map(\.string) == ["before"])

            let oldMaster = topology.initialMasterPort
            topology.kill(port: oldMaster)
            let newMaster = try await topology.waitForNewMaster(replacing: oldMaster)

            // Publish until one arrives: messages published while the subscriber reconnects are lost (pub/sub).
            try await eventually(timeout: .seconds(20), pollEvery: .milliseconds(100), "a message published after the failover arrives") {
                _ = try? await pool.publish(channel, "after")
                return collector.received.count >= 2
            }
            #expect(collector.received.dropFirst().allSatisfy { $0.string == "after" && $0.channel == channel })
            let numsub = try await topology.send(port: newMaster, ["PUBSUB", "NUMSUB", channel])
            #expect(numsub.array?.last?.int == 1, "the subscriber is not subscribed on the new master: \(numsub)")

            collector.cancel()
            await subscriber.close()
            await pool.close()
        }
    }
}
