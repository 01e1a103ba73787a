import PostgresClient
import TestSupport
import Testing

@Suite(.timeLimit(.minutes(2))) struct PostgresErrorTests {
    static let password = "Hunter2-NeverShowMe"

    /// Trust authentication ignores the password, so the URL works while carrying a secret to leak.
    func urlWithPassword() throws -> String {
        let servers = try TestStack.shared()
        return "postgresql://pingvas:\(Self.password)@127.0.0.1:\(servers.postgresPort)/pingvas"
    }

    @Test func failingStatementsMapToTheirSQLState() async throws {
        let url = try urlWithPassword()
        let db = try await PostgresTestDatabase(url: url)
        let pool = db.pool
        try await pool.execute("CREATE TABLE parents (id int PRIMARY KEY, email text UNIQUE)", [])
        try await pool.execute(
            "CREATE TABLE children (id int PRIMARY KEY, parent int NOT NULL REFERENCES parents(id), age int CHECK (age >= 0))", [])
        try await pool.execute("INSERT INTO parents (id, email) VALUES (1, $1)", "a@example.com")

        let unique = await postgresError { try await pool.execute("INSERT INTO parents (id, email) VALUES (2, $1)", "a@example.com") }
        #expect(unique?.code == .uniqueViolation)
        #expect(unique?.sqlState == "23505")
        #expect(unique?.constraint == "parents_email_key")

        let foreignKey = await postgresError { try await pool.execute("INSERT INTO children (id, parent) VALUES (1, 99)", []) }
        #expect(foreignKey?.code == .foreignKeyViolation)
        #expect(foreignKey?.sqlState == "23503")

        let check = await postgresError { try await pool.execute("INSERT INTO children (id, parent, age) VALUES (1, 1, -1)", []) }
        #expect(check?.code == .checkViolation)

        let notNull = await postgresError { try await pool.execute("INSERT INTO children (id, parent) VALUES (1, NULL)", []) }
        #expect(notNull?.code == .notNullViolation)

        let syntax = await postgresError { _ = try await pool.query("SELEC 1", []) }
        #expect(syntax?.code == .syntaxError)
        #expect(syntax?.sqlState == "42601")

        let undefined = await postgresError { _ = try await pool.query("SELECT * FROM no_such_table", []) }
        #expect(undefined?.code == .undefinedTable)

        let other = await postgresError { _ = try await pool.query("SELECT 1 / 0", []) }
        #expect(other?.code == .other("22012"))

        for error in [unique, foreignKey, check, notNull, syntax, undefined, other] {
            let text = try #require(error).description
            #expect(!text.contains(Self.password), "\(text)")
            #expect(!text.contains(url))
            #expect(!text.contains("a@example.com"), "DETAIL with row values must stay out: \(text)")
        }
        // The pool keeps working after all those failures.
        #expect(try await pool.query("SELECT count(*) AS n FROM parents", [])[0].decode(Int.self, "n") == 1)
        await db.tearDown()
    }

    @Test func connectionFailureHidesThePassword() async throws {
        let port = try TestStack.freePort()
        let url = "postgresql://pingvas:\(Self.password)@127.0.0.1:\(port)/pingvas"
        let pool = PostgresPool(configuration: PostgresConfiguration(url: url), logger: quietLogger)
        let error = await postgresError { try await pool.ping() }
        #expect(error?.code == .connectionFailed)
        let text = try #require(error).description
        #expect(!text.contains(Self.password), "\(text)")
        #expect(!text.contains(url))
        await pool.close()
    }

    @Test func invalidSchemaNameIsRejectedBeforeReachingTheServer() async throws {
        let servers = try TestStack.shared()
        let pool = PostgresPool(
            configuration: PostgresConfiguration(url: servers.databaseURL, schema: "bad; DROP"), logger: quietLogger)
        let error = await postgresError { try await pool.ping() }
        #expect(error?.code == .invalidIdentifier)
        await pool.close()
    }
}
