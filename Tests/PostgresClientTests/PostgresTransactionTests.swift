import PostgresClient
import Synchronization
import TestSupport
import Testing

@Suite(.timeLimit(.minutes(2))) struct PostgresTransactionTests {
    struct Boom: Error {}

    @Test func throwingBodyRollsBackAndSuccessCommits() async throws {
        let db = try await PostgresTestDatabase()
        let pool = db.pool
        try await pool.execute("CREATE TABLE items (name text PRIMARY KEY)", [])
        await #expect(throws: Boom.self) {
            try await pool.transaction { connection in
                try await connection.execute("INSERT INTO items (name) VALUES ($1)", "rolled-back")
                #expect(try await connection.query("SELECT name FROM items", []).count == 1)
                throw Boom()
            }
        }
        let committed = try await pool.transaction { connection in
            try await connection.execute("INSERT INTO items (name) VALUES ($1)", "kept")
        }
        #expect(committed == 1)
        let names = try await pool.query("SELECT name FROM items", []).map { try $0.decode(String.self, "name") }
        #expect(names == ["kept"])
        await db.tearDown()
    }

    @Test func failedStatementRollsBackEarlierWork() async throws {
        let db = try await PostgresTestDatabase()
        let pool = db.pool
        try await pool.execute("CREATE TABLE items (name text PRIMARY KEY)", [])
        let error = await postgresError {
            try await pool.transaction { connection in
                try await connection.execute("INSERT INTO items (name) VALUES ('a')", [])
                try await connection.execute("INSERT INTO items (name) VALUES ('a')", [])
            }
        }
        #expect(error?.code == .uniqueViolation)
        #expect(try await pool.query("SELECT * FROM items", []).isEmpty)
        await db.tearDown()
    }

    /// Two SERIALIZABLE read-then-write transactions on one row: one must fail with 40001 and be rerun.
    @Test func serializationFailureRetriesTheWholeBody() async throws {
        let db = try await PostgresTestDatabase(maxConnections: 4)
        let pool = db.pool
        try await pool.execute("CREATE TABLE counter (id int PRIMARY KEY, value int NOT NULL)", [])
        try await pool.execute("INSERT INTO counter VALUES (1, 0)", [])
        let runs = Atomic(0)
        let haveRead = Atomic(0)

        let increment: @Sendable () async throws -> Void = {
            try await pool.transaction(isolation: .serializable, retryOnSerializationFailure: 3) { connection in
                let attempt = runs.add(1, ordering: .relaxed).newValue
                let value = try await connection.query("SELECT value FROM counter WHERE id = 1", [])[0].decode(Int.self, "value")
                if attempt <= 2 {
                    // Both first attempts read before either writes, which forces the conflict.
                    haveRead.add(1, ordering: .relaxed)
                    try await eventually(timeout: .seconds(5), pollEvery: .milliseconds(5), "both first attempts read the row") {
                        haveRead.load(ordering: .relaxed) >= 2
                    }
                }
                try await connection.execute("UPDATE counter SET value = $1 WHERE id = 1", value + 1)
            }
        }
        async let first: Void = increment()
        async let second: Void = increment()
        _ = try await (first, second)

        let value = try await pool.query("SELECT value FROM counter", [])[0].decode(Int.self, "value")
        #expect(value == 2, "no lost update")
        #expect(runs.load(ordering: .relaxed) == 3, "the conflicting body ran again")
        await db.tearDown()
    }

    @Test func withoutRetriesTheSerializationFailureSurfaces() async throws {
        let db = try await PostgresTestDatabase(maxConnections: 4)
        let pool = db.pool
        try await pool.execute("CREATE TABLE counter (id int PRIMARY KEY, value int NOT NULL)", [])
        try await pool.execute("INSERT INTO counter VALUES (1, 0)", [])
        let haveRead = Atomic(0)

        let increment: @Sendable () async throws -> Void = {
            try await pool.transaction(isolation: .serializable) { connection in
                let value = try await connection.query("SELECT value FROM counter WHERE id = 1", [])[0].decode(Int.self, "value")
                haveRead.add(1, ordering: .relaxed)
                try await eventually(timeout: .seconds(5), pollEvery: .milliseconds(5), "both transactions read the row") {
                    haveRead.load(ordering: .relaxed) >= 2
                }
                try await connection.execute("UPDATE counter SET value = $1 WHERE id = 1", value + 1)
            }
        }
        async let first = Result { try await increment() }
        async let second = Result { try await increment() }
        let results = await [first, second]
        let codes = results.compactMap { result -> PostgresError.Code? in
            guard case .failure(let error) = result else { return nil }
            return (error as? PostgresError)?.code
        }
        #expect(codes == [.serializationFailure])
        await db.tearDown()
    }
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
