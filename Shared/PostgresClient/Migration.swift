package import Foundation

/// One versioned SQL migration, loaded from a file named `0001_create_users.sql`.
package struct Migration: Sendable, Equatable {
    package let version: Int
    package let name: String
    package let sql: String

    package init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }

    /// Lowercase hex SHA-256 of the SQL text; an applied migration whose file changed is refused.
    package var checksum: String { SHA256.hex(sql) }
}

extension Migration {
    /// Every `<digits>_<name>.sql` file in `directory`, sorted by version; other files are ignored.
    ///
    /// Throws for a `.sql` file whose name does not fit the pattern and for two files with one version.
    package static func load(from directory: URL) throws -> [Migration] {
        let files = try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
        var migrations: [Migration] = []
        for file in files where file.pathExtension == "sql" {
            let (version, name) = try parse(fileName: file.lastPathComponent)
            let sql = try String(contentsOf: file, encoding: .utf8)
            migrations.append(Migration(version: version, name: name, sql: sql))
        }
        migrations.sort { $0.version < $1.version }
        for (previous, next) in zip(migrations, migrations.dropFirst()) where previous.version == next.version {
            throw MigrationError.duplicateVersion(next.version)
        }
        return migrations
    }

    /// `0001_create_users.sql` -> (1, "create_users").
    static func parse(fileName: String) throws(MigrationError) -> (Int, String) {
        let stem = fileName.dropLast(".sql".count)
        guard fileName.hasSuffix(".sql"), let underscore = stem.firstIndex(of: "_") else {
            throw MigrationError.badFileName(fileName)
        }
        let digits = stem[..<underscore]
        let name = stem[stem.index(after: underscore)...]
        let nameIsValid = !name.isEmpty && name.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || scalar == "_" || scalar == "-")
        }
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber),
              let version = Int(digits), version > 0, nameIsValid
        else { throw MigrationError.badFileName(fileName) }
        return (version, String(name))
    }
}
