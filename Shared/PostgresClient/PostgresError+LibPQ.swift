import Foundation
import CLibPQ

extension PostgresError {
    /// The one place libpq failures become `PostgresError`s.
    ///
    /// - `result`: the failed `PGresult` (nil when libpq returned none, e.g. out of memory or a dead socket).
    /// - `connecting`: true while opening the connection, so failures are `.connectionFailed`.
    /// - `secret`: the password, scrubbed from any libpq text that might echo the connection string.
    static func libpq(
        connection: OpaquePointer?, result: OpaquePointer?, connecting: Bool = false, secret: String?
    ) -> PostgresError {
        func field(_ code: Character) -> String? {
            guard let result, let value = PQresultErrorField(result, Int32(code.asciiValue!)) else { return nil }
            return String(cString: value)
        }
        let sqlState = field("C")
        let connectionOK = connection.map { PQstatus($0) == CONNECTION_OK } ?? false
        var message = field("M") ?? clientMessage(connection: connection, result: result)
        if let secret, !secret.isEmpty { message = message.replacingAll(secret, with: "***") }

        let code: Code
        if connecting {
            code = .connectionFailed
        } else if !connectionOK {
            code = .connectionLost
        } else if let sqlState {
            code = Code(sqlState: sqlState)
        } else {
            code = .other("")
        }
        return PostgresError(code, message: message, sqlState: sqlState, constraint: field("n"))
    }

    /// libpq's own message, first line only (the rest repeats connection attempts and hosts).
    private static func clientMessage(connection: OpaquePointer?, result: OpaquePointer?) -> String {
        var text = ""
        if let result, let raw = PQresultErrorMessage(result) { text = String(cString: raw) }
        if text.isEmpty, let connection, let raw = PQerrorMessage(connection) { text = String(cString: raw) }
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return lines.first ?? "unknown libpq error"
    }
}

extension String {
    func replacingAll(_ target: String, with replacement: String) -> String {
        var output = ""
        var rest = self[...]
        while let range = rest.range(of: target) {
            output += rest[..<range.lowerBound]
            output += replacement
            rest = rest[range.upperBound...]
        }
        return output + rest
    }
}
