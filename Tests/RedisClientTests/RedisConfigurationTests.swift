import TestSupport
import Testing
@testable import RedisClient

extension RedisClientTests {
    @Suite("Redis configuration", .timeLimit(.minutes(2)))
    struct RedisConfigurationTests {
        @Test("URLs parse into host, port, credentials and database")
        func parsing() throws {
            #expect(try RedisEndpoint.parse("redis://127.0.0.1:26379").get()
                == RedisEndpoint(host: "127.0.0.1", port: 26379, username: nil, password: nil, database: 0))
            #expect(try RedisEndpoint.parse("redis://:p%40ss@cache:6380/3").get()
                == RedisEndpoint(host: "cache", port: 6380, username: nil, password: "p@ss", database: 3))
            #expect(try RedisEndpoint.parse("redis://app:secret@[::1]/2").get()
                == RedisEndpoint(host: "::1", port: 6379, username: "app", password: "secret", database: 2))
            for bad in ["http://x:1", "redis://", "redis://host:99999", "redis://host:1/x"] {
                #expect(throws: RedisError.self, "\(bad)") { try RedisEndpoint.parse(bad).get() }
            }
        }

        @Test("neither the configuration nor connection errors reveal the password")
        func passwordStaysSecret() async throws {
            let port = try TestStack.freePort()
            let configuration = RedisConfiguration(url: "redis://:hunter2secret@127.0.0.1:\(port)/1")
            #expect(!"\(configuration)".contains("hunter2secret"))
            #expect("\(configuration)".contains("127.0.0.1:\(port)/1"))

            try await Redis.withPool("redis://:hunter2secret@127.0.0.1:\(port)/1") { pool in
                let error = await #expect(throws: RedisError.self) { try await pool.ping() }
                #expect(error?.kind == .connectionFailed)
                #expect(!"\(String(describing: error))".contains("hunter2secret"))
            }
            // A wrong password against a real server: refused, and the message still hides it.
            let servers = try TestStack.shared()
            try await Redis.withPool("redis://:wrong-hunter2@127.0.0.1:\(servers.redisPort)") { pool in
                let error = await #expect(throws: RedisError.self) { try await pool.ping() }
                #expect(error?.kind == .connectionFailed)
                #expect(!"\(String(describing: error))".contains("wrong-hunter2"))
            }
        }
    }
}
