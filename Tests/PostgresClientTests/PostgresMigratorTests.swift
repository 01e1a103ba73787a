import Foundation
import PostgresClient
import TestSupport
import Testing

@Suite(.timeLimit(.minutes(2))) struct PostgresMigratorTests {
    static let migrations = [
        Migration(version: 1, name: "create_users", sql: """
            CREATE TABLE users (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE);
            CREATE INDEX users_email_lower ON users (lower(email));
            """),
        Migration(version: 2, name: "create_jobs", sql: """
            CREATE TABLE jobs (id bigserial PRIMARY KEY, user_id bigint NOT NULL REFERENCES users(id));
            """),
        Migration(version: 3, name: "seed", sql: "INSERT INTO users (email) VALUES ('admin@example.com');"),
    ]

    func makePool(url: String) -> PostgresPool {
        PostgresPool(configuration: PostgresConfiguration(url: url, maxConnections: 2), logger: quietLogger)
    }

    @Test func twoProcessesStartingTogetherApplyEachMigrationOnce() async throws {
        let url = try TestStack.shared().databaseURL
        let schema = TestStack.uniqueName("mig")
        let first = makePool(url: url)
        let second = makePool(url: url)
        async let appliedByFirst = PostgresMigrator(pool: first, schema: schema, logger: quietLogger).migrate(Self.migrations)
        async let appliedBySecond = PostgresMigrator(pool: second, schema: schema, logger: quietLogger).migrate(Self.migrations)
        let combined = try await appliedByFirst + appliedBySecond
        #expect(combined.sorted() == [1, 2, 3])

        let recorded = try await first.query("SELECT version, name, checksum FROM \(schema).schema_migrations ORDER BY version", [])
        #expect(try recorded.map { try $0.decode(Int.self, "version") } == [1, 2, 3])
        #expect(try recorded.map { try $0.decode(String.self, "name") } == ["create_users", "create_jobs", "seed"])
        #expect(try recorded[0].decode(String.self, "checksum") == Self.migrations[0].checksum)
        let users = try await first.query("SELECT count(*) AS n FROM \(schema).users", [])
        #expect(try users[0].decode(Int.self, "n") == 1, "the seed ran once")

        let again = try await PostgresMigrator(pool: second, schema: schema, logger: quietLogger).migrate(Self.migrations)
        #expect(again.isEmpty)

        var edited = Self.migrations
        edited[1] = Migration(version: 2, name: "create_jobs", sql: "CREATE TABLE jobs (id int);")
        await #expect(throws: MigrationError.checksumMismatch(version: 2, name: "create_jobs")) {
            try await PostgresMigrator(pool: first, schema: schema, logger: quietLogger).migrate(edited)
        }
        // The lock was released on that error path: the other "process" gets it at once.
        let more = Self.migrations + [Migration(version: 4, name: "more", sql: "ALTER TABLE jobs ADD COLUMN note text;")]
        #expect(try await PostgresMigrator(pool: second, schema: schema, logger: quietLogger).migrate(more) == [4])

        _ = try await first.execute("DROP SCHEMA \(schema) CASCADE", [])
        await first.close()
        await second.close()
    }

    @Test func failingMigrationIsRolledBackAndNotRecorded() async throws {
        let url = try TestStack.shared().databaseURL
        let schema = TestStack.uniqueName("mig")
        let pool = makePool(url: url)
        let broken = [
            Self.migrations[0],
            Migration(version: 2, name: "broken", sql: "CREATE TABLE half (id int); SELECT * FROM missing_table;"),
        ]
        let migrator = PostgresMigrator(pool: pool, schema: schema, logger: quietLogger)
        let error = await postgresError { try await migrator.migrate(broken) }
        #expect(error?.code == .undefinedTable)
        let tables = try await pool.query(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name", schema)
        #expect(try tables.map { try $0.decode(String.self, "table_name") } == ["schema_migrations", "users"])
        #expect(try await migrator.migrate(Self.migrations) == [2, 3])
        _ = try await pool.execute("DROP SCHEMA \(schema) CASCADE", [])
        await pool.close()
    }

    @Test func schemaNamesAreValidated() async throws {
        let pool = makePool(url: try TestStack.shared().databaseURL)
        for bad in ["Users", "a-b", "x\"; DROP SCHEMA public; --", "", "1abc", String(repeating: "a", count: 64)] {
            let error = await postgresError {
                try await PostgresMigrator(pool: pool, schema: bad, logger: quietLogger).migrate(Self.migrations)
            }
            #expect(error?.code == .invalidIdentifier, "\(bad)")
        }
        await pool.close()
    }

    @Test func duplicateVersionsAreRefusedBeforeAnythingRuns() async throws {
        let pool = makePool(url: try TestStack.shared().databaseURL)
        let schema = TestStack.uniqueName("mig")
        let twice = Self.migrations + [Migration(version: 2, name: "again", sql: "CREATE TABLE again (id int);")]
        await #expect(throws: MigrationError.duplicateVersion(2)) {
            try await PostgresMigrator(pool: pool, schema: schema, logger: quietLogger).migrate(twice)
        }
        await pool.close()
    }

    @Test func aRewriteThatNamesTheFormerChecksumIsAccepted() async throws {
        let pool = makePool(url: try TestStack.shared().databaseURL)
        let schema = TestStack.uniqueName("mig")
        let migrator = PostgresMigrator(pool: pool, schema: schema, logger: quietLogger)
        #expect(try await migrator.migrate(Self.migrations) == [1, 2, 3])

        // Same effect, other text: refused unless it lists the checksum the database recorded.
        let rewritten = "CREATE TABLE jobs (\n    id bigserial PRIMARY KEY,\n    user_id bigint NOT NULL REFERENCES users(id)\n);"
        var edited = Self.migrations
        edited[1] = Migration(version: 2, name: "create_jobs", sql: rewritten)
        await #expect(throws: MigrationError.checksumMismatch(version: 2, name: "create_jobs")) { try await migrator.migrate(edited) }
        edited[1] = Migration(version: 2, name: "create_jobs", sql: rewritten, formerChecksums: [Self.migrations[1].checksum])
        #expect(try await migrator.migrate(edited).isEmpty)

        _ = try await pool.execute("DROP SCHEMA \(schema) CASCADE", [])
        await pool.close()
    }

    @Test func checksumIsSHA256OfTheSQL() {
        #expect(Migration(version: 1, name: "x", sql: "abc").checksum
            == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Migration(version: 1, name: "x", sql: "").checksum
            == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(Migration(version: 1, name: "x", sql: String(repeating: "a", count: 1000)).checksum
            == "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3")
    }
}
