import RedisClient
import Testing

extension RedisClientTests {
    @Suite("Redis Sentinel configuration", .timeLimit(.minutes(3)))
    struct RedisSentinelConfigurationTests {
        @Test("sentinel lists parse: ports, default port, IPv6 in brackets, spaces, repeats")
        func parsesLists() throws {
            #expect(try RedisSentinelEndpoint.parseList("s1:26379,s2:26380,10.0.0.3:1").get() == [
                RedisSentinelEndpoint(host: "s1", port: 26379),
                RedisSentinelEndpoint(host: "s2", port: 26380),
                RedisSentinelEndpoint(host: "10.0.0.3", port: 1),
            ])
            #expect(try RedisSentinelEndpoint.parseList(" [::1]:26379 , [fe80::1] ,sentinel ").get() == [
                RedisSentinelEndpoint(host: "::1", port: 26379),
                RedisSentinelEndpoint(host: "fe80::1", port: 26379),
                RedisSentinelEndpoint(host: "sentinel", port: 26379),
            ])
            #expect(try RedisSentinelEndpoint.parseList("a:1,a:1,b:2").get().map(\.description) == ["a:1", "b:2"])
            #expect(RedisSentinelEndpoint(host: "::1", port: 5).description == "[::1]:5")
        }

        @Test(
            "bad sentinel lists give an error naming the problem, never a crash",
            arguments: [
                ("", "empty"), ("   ", "empty"), ("a:1,,b:2", "entry 2 is empty"), ("a:1,", "entry 2 is empty"),
                ("host:0", "port '0'"), ("host:65536", "port '65536'"), ("host:abc", "port 'abc'"), ("host:", "port ''"),
                (":26379", "no host"), ("::1:26379", "brackets"), ("[::1", "without ']'"), ("[::1]x", "after ']'"),
                ("redis://s1:26379", "a URL"), ("user@s1:26379", "'@'"), ("s1 s2:1", "a space"), ("[]:1", "no host"),
            ]
        )
        func rejectsBadLists(input: String, reason: String) {
            switch RedisSentinelEndpoint.parseList(input) {
            case .success(let endpoints):
                Issue.record("'\(input)' parsed as \(endpoints)")
            case .failure(let error):
                #expect(error.kind == .connectionFailed)
                #expect(error.detail.contains(reason), "\(error.detail)")
                #expect(error.detail.hasPrefix("sentinel "), "\(error.detail)")
            }
        }

        @Test("validate() wants sentinels and a master name together; the URL's host is not needed")
        func validation() throws {
            let sentinels = [RedisSentinelEndpoint(host: "127.0.0.1", port: 26379)]
            try RedisConfiguration(url: "redis://:pw@mymaster/2", sentinels: sentinels, sentinelMaster: "mymaster").validate()
            try RedisConfiguration(url: "redis://127.0.0.1:6379").validate()

            let noName = RedisConfiguration(url: "redis://x", sentinels: sentinels, sentinelMaster: " ")
            #expect(throws: RedisError(.connectionFailed, "sentinels are configured but no sentinel master name")) { try noName.validate() }
            let noSentinels = RedisConfiguration(url: "redis://x", sentinelMaster: "mymaster")
            #expect(throws: RedisError.self) { try noSentinels.validate() }
            let badURL = RedisConfiguration(url: "http://x", sentinels: sentinels, sentinelMaster: "mymaster")
            #expect(throws: RedisError.self) { try badURL.validate() }
        }

        @Test("the description names the sentinels, the master and the database, never the password")
        func description() {
            let configuration = RedisConfiguration(
                url: "redis://:hunter2secret@ignored/3",
                sentinels: [RedisSentinelEndpoint(host: "s1"), RedisSentinelEndpoint(host: "::1", port: 5)],
                sentinelMaster: "mymaster"
            )
            #expect("\(configuration)" == "RedisConfiguration(master 'mymaster' via sentinels s1:26379,[::1]:5, database 3, maxConnections: 10)")
        }

        @Test("an incomplete sentinel setting fails the first command with connectionFailed, not a crash")
        func incompleteSettingFailsCommands() async throws {
            let configuration = RedisConfiguration(url: "redis://x", sentinels: [RedisSentinelEndpoint(host: "127.0.0.1", port: 1)])
            let pool = RedisPool(configuration: configuration, logger: Redis.logger)
            let error = await #expect(throws: RedisError.self) { try await pool.ping() }
            #expect(error?.kind == .connectionFailed)
            #expect(error?.detail.contains("no sentinel master name") == true)
            await pool.close()
        }
    }
}
