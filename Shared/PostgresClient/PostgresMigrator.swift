package import Logging

/// Applies a service's migrations to its schema, once, even when several replicas start together.
///
/// On one connection it takes a session advisory lock keyed by the schema name, creates the
/// schema and `<schema>.schema_migrations` if needed, refuses applied migrations whose checksum
/// changed, then applies each pending one in its own transaction (with `search_path` set to the
/// schema and no statement timeout) and records it. The lock is released on every path; if the
/// connection dies, the server releases it with the session.
package struct PostgresMigrator: Sendable {
    package let pool: PostgresPool
    package let schema: String
    let logger: Logger

    package init(pool: PostgresPool, schema: String, logger: Logger) {
        self.pool = pool
        self.schema = schema
        self.logger = logger
    }

    /// Applies what is pending and returns the versions this call applied, ascending.
    @discardableResult
    package func migrate(_ migrations: [Migration]) async throws -> [Int] {
        let quoted = try PostgresIdentifier.quoted(schema)
        let sorted = migrations.sorted { $0.version < $1.version }
        for (previous, next) in zip(sorted, sorted.dropFirst()) where previous.version == next.version {
            throw MigrationError.duplicateVersion(next.version)
        }
        return try await pool.withConnection { connection in
            _ = try await connection.query("SELECT pg_advisory_lock(hashtext($1))", [schema])
            do {
                let applied = try await apply(sorted, schema: quoted, on: connection)
                try await unlock(connection)
                return applied
            } catch {
                try? await unlock(connection)
                throw error
            }
        }
    }

    private func unlock(_ connection: PostgresConnection) async throws {
        let schema = schema
        do {
            _ = try await connection.statement("SELECT pg_advisory_unlock(hashtext($1))", [schema], cancellable: false)
        } catch {
            // A pooled connection must never keep holding the lock.
            connection.poison()
            throw error
        }
    }

    private func apply(_ migrations: [Migration], schema quoted: String, on connection: PostgresConnection) async throws -> [Int] {
        try await connection.execute("CREATE SCHEMA IF NOT EXISTS \(quoted)", [])
        try await connection.execute(
            """
            CREATE TABLE IF NOT EXISTS \(quoted).schema_migrations (
                version int PRIMARY KEY,
                name text NOT NULL,
                checksum text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """, [])
        var recorded: [Int: String] = [:]
        for row in try await connection.query("SELECT version, checksum FROM \(quoted).schema_migrations", []) {
            recorded[try row.decode(Int.self, "version")] = try row.decode(String.self, "checksum")
        }
        for migration in migrations {
            if let checksum = recorded[migration.version], !migration.accepts(checksum: checksum) {
                throw MigrationError.checksumMismatch(version: migration.version, name: migration.name)
            }
        }
        var applied: [Int] = []
        for migration in migrations where recorded[migration.version] == nil {
            logger.info("applying migration", metadata: ["schema": "\(schema)", "version": "\(migration.version)", "name": "\(migration.name)"])
            try await connection.transaction { connection in
                try await connection.execute("SET LOCAL search_path TO \(quoted), public", [])
                // Index builds and backfills may legitimately outlast the per-request timeout.
                try await connection.execute("SET LOCAL statement_timeout = 0", [])
                try await connection.simpleExecute(migration.sql)
                try await connection.execute(
                    "INSERT INTO \(quoted).schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                    [migration.version, migration.name, migration.checksum])
            }
            applied.append(migration.version)
        }
        return applied
    }
}
