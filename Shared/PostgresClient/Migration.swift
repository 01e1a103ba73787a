import PingvasCrypto

/// One versioned SQL migration, embedded in the service that owns the schema.
package struct Migration: Sendable, Equatable {
    package let version: Int
    package let name: String
    package let sql: String
    /// Checksums of earlier texts of this migration that did the same thing (a rewrite that only
    /// moved shared DDL into a constant, say): databases that applied one of them are not refused.
    package let formerChecksums: Set<String>

    package init(version: Int, name: String, sql: String, formerChecksums: Set<String> = []) {
        self.version = version
        self.name = name
        self.sql = sql
        self.formerChecksums = formerChecksums
    }

    /// Lowercase hex SHA-256 of the SQL text; an applied migration whose text changed is refused.
    package var checksum: String { SHA256Digest.hex(sql.utf8) }

    /// Whether a database that recorded `checksum` applied this migration.
    package func accepts(checksum recorded: String) -> Bool {
        recorded == checksum || formerChecksums.contains(recorded)
    }
}
