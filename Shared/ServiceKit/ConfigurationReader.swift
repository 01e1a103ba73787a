import Foundation

/// Reads `PINGVAS_*` settings from the environment and reports every problem at once.
///
/// Each accessor records a missing or malformed key instead of failing on the first one;
/// `validate()` then throws a single error naming all of them. Keys read with `secret: true`
/// are shown as `[redacted]` by `summary`.
package struct ConfigurationReader {
    private let environment: [String: String]
    private var missing: [String] = []
    private var invalid: [String] = []
    private var seen: [(key: String, value: String, secret: Bool)] = []

    package init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    /// A required string; recorded as missing when absent or empty and no default is given.
    package mutating func string(_ key: String, default defaultValue: String? = nil, secret: Bool = false) -> String {
        if let value = environment[key], !value.isEmpty {
            seen.append((key, value, secret))
            return value
        }
        if let defaultValue {
            seen.append((key, defaultValue, secret))
            return defaultValue
        }
        missing.append(key)
        return ""
    }

    /// An optional string: nil when absent or empty.
    package mutating func optionalString(_ key: String, secret: Bool = false) -> String? {
        guard let value = environment[key], !value.isEmpty else { return nil }
        seen.append((key, value, secret))
        return value
    }

    package mutating func int(_ key: String, default defaultValue: Int) -> Int {
        guard let raw = optionalString(key) else {
            seen.append((key, String(defaultValue), false))
            return defaultValue
        }
        guard let value = Int(raw) else {
            invalid.append("\(key) (expected an integer)")
            return defaultValue
        }
        return value
    }

    package mutating func bool(_ key: String, default defaultValue: Bool) -> Bool {
        guard let raw = optionalString(key)?.lowercased() else {
            seen.append((key, String(defaultValue), false))
            return defaultValue
        }
        switch raw {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default:
            invalid.append("\(key) (expected true or false)")
            return defaultValue
        }
    }

    /// A duration written as `250ms`, `5s`, `2m`, `1h`, or a plain number of seconds.
    package mutating func duration(_ key: String, default defaultValue: Duration) -> Duration {
        guard let raw = optionalString(key) else { return defaultValue }
        guard let value = Self.parseDuration(raw) else {
            invalid.append("\(key) (expected a duration such as 500ms, 5s or 2m)")
            return defaultValue
        }
        return value
    }

    /// Records a key whose value was present but unusable, for the combined report.
    package mutating func reject(_ key: String, because reason: String) {
        invalid.append("\(key) (\(reason))")
    }

    /// Throws one error naming every missing and malformed key.
    package func validate() throws {
        if !missing.isEmpty || !invalid.isEmpty {
            throw ConfigurationError(missing: missing, invalid: invalid)
        }
    }

    /// The settings read so far, one `KEY=value` per line, with secrets redacted.
    package var summary: String {
        seen.map { "\($0.key)=\($0.secret ? "[redacted]" : $0.value)" }.joined(separator: "\n")
    }

    package static func parseDuration(_ raw: String) -> Duration? {
        let text = raw.trimmingCharacters(in: .whitespaces).lowercased()
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            guard let number = Double(text.dropLast(suffix.count)), number >= 0 else { return nil }
            return .milliseconds(Int64((number * scale * 1000).rounded()))
        }
        guard let seconds = Double(text), seconds >= 0 else { return nil }
        return .milliseconds(Int64((seconds * 1000).rounded()))
    }
}

/// Start-up configuration problems, all of them.
package struct ConfigurationError: Error, CustomStringConvertible {
    package let missing: [String]
    package let invalid: [String]

    package var description: String {
        var lines = ["configuration error:"]
        if !missing.isEmpty { lines.append("  missing: \(missing.joined(separator: ", "))") }
        if !invalid.isEmpty { lines.append("  invalid: \(invalid.joined(separator: ", "))") }
        return lines.joined(separator: "\n")
    }
}
