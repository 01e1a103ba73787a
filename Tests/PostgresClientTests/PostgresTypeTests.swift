import Foundation
import PostgresClient
import Testing

@Suite(.timeLimit(.minutes(2))) struct PostgresTypeTests {
    @Test func everyBindableTypeRoundTripsThroughATable() async throws {
        let db = try await PostgresTestDatabase()
        let pool = db.pool
        try await pool.execute(
            """
            CREATE TABLE samples (
                id int PRIMARY KEY, i int8, i32 int4, s text, b bool, d float8, u uuid, ts timestamptz, bin bytea
            )
            """, [])
        let uuid = UUID()
        let date = Date(timeIntervalSince1970: 1_714_563_000.123456)
        let allBytes = (0...255).map(UInt8.init)
        let text = "héllo 🐧 日本語 O'Brien \\ \"quoted\" $1 --"
        let inserted = try await pool.execute(
            "INSERT INTO samples (id, i, i32, s, b, d, u, ts, bin) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            1, Int64.min, Int32.max, text, true, 3.141592653589793, uuid, date, allBytes)
        #expect(inserted == 1)
        let nothing: Int? = nil
        try await pool.execute(
            "INSERT INTO samples (id, i, i32, s, b, d, u, ts, bin) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            [2, nothing, Int32?.none, String?.none, Bool?.none, Double?.none, UUID?.none, Date?.none, Data?.none])

        let rows = try await pool.query("SELECT * FROM samples ORDER BY id", [])
        #expect(rows.count == 2)
        #expect(rows.columns == ["id", "i", "i32", "s", "b", "d", "u", "ts", "bin"])
        let full = rows[0]
        #expect(try full.decode(Int64.self, "i") == Int64.min)
        #expect(try full.decode(Int32.self, "i32") == Int32.max)
        #expect(try full.decode(String.self, "s") == text)
        #expect(try full.decode(Bool.self, "b") == true)
        #expect(try full.decode(Double.self, "d") == 3.141592653589793)
        #expect(try full.decode(UUID.self, "u") == uuid)
        #expect(abs(try full.decode(Date.self, "ts").timeIntervalSince(date)) < 0.000_001)
        #expect(try full.decode([UInt8].self, "bin") == allBytes)
        #expect(try full.decode(Data.self, "bin") == Data(allBytes))
        #expect(try full.decode(Int.self, 0) == 1)
        #expect(try full.decode(String?.self, "s") == text)

        let empty = rows[1]
        #expect(try empty.decode(Int?.self, "i") == nil)
        #expect(try empty.decode(String?.self, "s") == nil)
        #expect(try empty.decode(Date?.self, "ts") == nil)
        #expect(try empty.decode(Data?.self, "bin") == nil)
        #expect(empty.isNull("u"))
        let nullError = await postgresError { _ = try empty.decode(Int.self, "i") }
        #expect(nullError?.code == .decoding)
        #expect(nullError?.column == "i")
        await db.tearDown()
    }

    /// Byte arrays travel as binary parameters: an empty one stays empty (not NULL), a large one
    /// (more than the socket buffer takes at once) arrives whole.
    @Test func emptyAndLargeByteArraysRoundTrip() async throws {
        let db = try await PostgresTestDatabase()
        let large = (0..<4_000_000).map { UInt8(truncatingIfNeeded: $0 &* 7919 >> 3) }
        let row = try #require(try await db.pool.query(
            "SELECT $1::bytea AS empty, $1::bytea IS NULL AS empty_is_null, $2::bytea AS large, length($2::bytea) AS n, $3::bytea IS NULL AS none",
            [UInt8](), large, [UInt8]?.none
        ).first)
        #expect(try row.decode([UInt8].self, "empty") == [])
        #expect(try row.decode(Bool.self, "empty_is_null") == false)
        #expect(try row.decode(Int.self, "n") == large.count)
        #expect(try row.decode([UInt8].self, "large") == large)
        #expect(try row.decode(Bool.self, "none") == true)
        await db.tearDown()
    }

    @Test func scalarsRoundTripThroughParameters() async throws {
        let db = try await PostgresTestDatabase()
        let row = try #require(try await db.pool.query(
            "SELECT $1::int AS i, $2::bigint AS big, $3::text AS empty, $4::float8 AS inf, $5::bool AS f, $6::float8 AS small",
            Int.max >> 33, Int64.max, "", Double.infinity, false, 1e-300
        ).first)
        #expect(try row.decode(Int.self, "i") == Int.max >> 33)
        #expect(try row.decode(Int64.self, "big") == Int64.max)
        #expect(try row.decode(String.self, "empty") == "")
        #expect(try row.decode(Double.self, "inf") == .infinity)
        #expect(try row.decode(Bool.self, "f") == false)
        #expect(try row.decode(Double.self, "small") == 1e-300)
        await db.tearDown()
    }

    @Test func timestampsDecodeInAnySessionTimeZone() async throws {
        let db = try await PostgresTestDatabase(maxConnections: 1)
        let date = Date(timeIntervalSince1970: 946_684_799.5)  // 1999-12-31T23:59:59.5Z
        let decoded = try await db.pool.withConnection { connection in
            try await connection.execute("SET TimeZone = 'Asia/Kolkata'", [])
            let rows = try await connection.query("SELECT $1::timestamptz AS ts, $1::timestamptz::text AS raw", [date])
            try await connection.execute("RESET TimeZone", [])
            return (try rows[0].decode(Date.self, "ts"), try rows[0].decode(String.self, "raw"))
        }
        #expect(decoded.1 == "2000-01-01 05:29:59.5+05:30")
        #expect(decoded.0 == date)
        let special = try await db.pool.query(
            "SELECT 'infinity'::timestamptz AS a, '2024-02-29'::date AS b, '2024-02-29 10:00:00'::timestamp AS c", [])
        #expect(try special[0].decode(Date.self, "a") == .distantFuture)
        #expect(try special[0].decode(Date.self, "b") == Date(timeIntervalSince1970: 1_709_164_800))
        #expect(try special[0].decode(Date.self, "c") == Date(timeIntervalSince1970: 1_709_200_800))
        await db.tearDown()
    }

    @Test func decodingErrorsNameTheColumnAndTypeButNotTheValue() async throws {
        let db = try await PostgresTestDatabase()
        let rows = try await db.pool.query("SELECT $1::text AS token", "s3cr3t-token-value")
        let error = try #require(await postgresError { _ = try rows[0].decode(Int.self, "token") })
        #expect(error.code == .decoding)
        #expect(error.column == "token")
        #expect(error.description.contains("Int"))
        #expect(!error.description.contains("s3cr3t"))
        let missing = await postgresError { _ = try rows[0].decode(String.self, "nope") }
        #expect(missing?.code == .decoding)
        let outOfRange = await postgresError { _ = try rows[0].decode(String.self, 3) }
        #expect(outOfRange?.code == .decoding)
        await db.tearDown()
    }

    @Test func parametersAreNeverSpliced() async throws {
        let db = try await PostgresTestDatabase()
        try await db.pool.execute("CREATE TABLE notes (body text)", [])
        let hostile = "x'); DROP TABLE notes; --"
        try await db.pool.execute("INSERT INTO notes (body) VALUES ($1)", hostile)
        let rows = try await db.pool.query("SELECT body FROM notes", [])
        #expect(try rows.map { try $0.decode(String.self, "body") } == [hostile])
        let nul = await postgresError { _ = try await db.pool.query("SELECT $1::text", "a\u{0}b") }
        #expect(nul?.sqlState == "22021")
        await db.tearDown()
    }
}
