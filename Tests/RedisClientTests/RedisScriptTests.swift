import TestSupport
import Testing
@testable import RedisClient

extension RedisClientTests {
    @Suite("Redis scripts", .timeLimit(.minutes(2)))
    struct RedisScriptTests {
        @Test("the script's SHA-1 is computed locally and matches known vectors")
        func sha1Vectors() {
            #expect(RedisScript("").sha1 == "da39a3ee5e6b4b0d3255bfef95601890afd80709")
            #expect(RedisScript("abc").sha1 == "a9993e364706816aba3e25717850c26c9cd0d89d")
            #expect(
                RedisScript("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq").sha1 == "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
            )
            #expect(RedisScript(String(repeating: "a", count: 1000)).sha1 == "291e9a6c66994949b57ba5e650361e98fc36b1ba")
        }

        @Test("EVALSHA loads the script on NOSCRIPT (after SCRIPT FLUSH) and returns its result")
        func evalshaAfterFlush() async throws {
            // SCRIPT FLUSH affects every client of a server, so this runs on a private Redis.
            let servers = try TestStack.startPrivate("redis")
            defer { try? servers.stack("stop", "redis") }
            try await Redis.withPool(servers.redisURL) { pool in
                let script = RedisScript("return redis.call('INCRBY', KEYS[1], ARGV[1]) * 10")
                let key = TestStack.uniqueName("script")

                #expect(try await pool.send("SCRIPT", "LOAD", script.source).string == script.sha1)
                #expect(try await pool.evalsha(script, keys: [key], arguments: ["2"]) == .integer(20))

                _ = try await pool.send("SCRIPT", "FLUSH")
                #expect(try await pool.send("SCRIPT", "EXISTS", script.sha1) == .array([.integer(0)]))
                #expect(try await pool.evalsha(script, keys: [key], arguments: ["3"]) == .integer(50))
                #expect(try await pool.send("SCRIPT", "EXISTS", script.sha1) == .array([.integer(1)]))

                let failing = RedisScript("return redis.error_reply('ERR nope')")
                let error = await #expect(throws: RedisError.self) { try await pool.evalsha(failing, keys: [], arguments: []) }
                #expect(error?.kind == .server("ERR nope"))
            }
        }
    }
}
