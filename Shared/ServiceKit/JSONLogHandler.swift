import CoreFoundation
import Foundation
package import Logging
import Synchronization

/// Writes one JSON object per line: `ts`, `level`, `service`, `msg`, then the metadata.
///
/// Metadata whose key names a secret (password, token, authorization, signature, secret, cookie)
/// is written as `[redacted]`, so a careless log call cannot leak one.
package struct JSONLogHandler: LogHandler {
    package var logLevel: Logger.Level
    package var metadata: Logger.Metadata = [:]
    package var metadataProvider: Logger.MetadataProvider?
    private let service: String
    private let sink: LogSink

    package init(service: String, level: Logger.Level, sink: LogSink = .standardOutput, metadataProvider: Logger.MetadataProvider? = nil) {
        self.service = service
        self.logLevel = level
        self.sink = sink
        self.metadataProvider = metadataProvider
    }

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    package func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        var object: [String: LogJSON] = [
            "ts": .string(Self.timestamp()),
            "level": .string(event.level.rawValue),
            "service": .string(service),
            "msg": .string(event.message.description),
        ]
        if event.level >= .error { object["source"] = .string("\(event.file):\(event.line)") }
        for (key, value) in merged where object[key] == nil {
            object[key] = Self.isSecret(key) ? .string("[redacted]") : Self.jsonValue(value)
        }
        // Written by hand rather than through JSONSerialization: a log line per request is on the
        // hot path of every service (sorted keys, slashes unescaped).
        var line: [UInt8] = []
        line.reserveCapacity(256)
        LogJSON.object(object).append(to: &line)
        line.append(0x0A)
        sink.write(line)
    }

    /// Whether `key` contains one of `secretWords`, ignoring ASCII case. Byte comparisons only: this
    /// runs for every metadata key of every log line (Foundation's `contains` was 5% of a service's CPU).
    static func isSecret(_ key: String) -> Bool {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(key.utf8.count)
        for byte in key.utf8 { bytes.append((65...90).contains(byte) ? byte + 32 : byte) }
        for word in secretWords where bytes.count >= word.count {
            for start in 0...(bytes.count - word.count) where bytes[start] == word[0] {
                if bytes[start..<(start + word.count)].elementsEqual(word) { return true }
            }
        }
        return false
    }

    static let secretWords: [[UInt8]] = ["password", "token", "authorization", "signature", "secret", "cookie", "api_key"].map { Array($0.utf8) }

    static func jsonValue(_ value: Logger.MetadataValue) -> LogJSON {
        switch value {
        case .string(let string): .string(string)
        case .stringConvertible(let convertible): .string(convertible.description)
        case .array(let array): .array(array.map(jsonValue))
        case .dictionary(let dictionary): .object(dictionary.mapValues(jsonValue))
        }
    }

    /// Now as ISO 8601 in UTC with milliseconds, e.g. `2026-01-31T09:15:02.123Z`.
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let digits = String(value)
            return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(now.tv_nsec / 1_000_000), 3))Z"
    }
}

/// The JSON a log line is made of: strings, arrays and objects (keys written sorted).
enum LogJSON {
    case string(String)
    case array([LogJSON])
    case object([String: LogJSON])

    func append(to out: inout [UInt8]) {
        switch self {
        case .string(let text):
            Self.appendString(text, to: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                item.append(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (index, key) in members.keys.sorted().enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                Self.appendString(key, to: &out)
                out.append(UInt8(ascii: ":"))
                members[key]!.append(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// `text` as a JSON string: quotes, backslashes and control characters escaped, the rest as UTF-8.
    static func appendString(_ text: String, to out: inout [UInt8]) {
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x0A: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0..<0x20, 0x7F:
                out.append(contentsOf: Array("\\u00".utf8))
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0x0F)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

/// Where log lines go: standard output, or a buffer that tests read back.
package final class LogSink: Sendable {
    private enum Target { case standardOutput, memory }
    private let target: Target
    private let buffer = Mutex<[UInt8]>([])

    private init(target: Target) { self.target = target }

    package static let standardOutput = LogSink(target: .standardOutput)
    package static func memory() -> LogSink { LogSink(target: .memory) }

    func write(_ line: [UInt8]) {
        switch target {
        case .standardOutput:
            // One write(2) per line keeps lines from interleaving between threads.
            line.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let written = Foundation.write(1, raw.baseAddress! + offset, raw.count - offset)
                    if written <= 0 { break }
                    offset += written
                }
            }
        case .memory:
            buffer.withLock { $0.append(contentsOf: line) }
        }
    }

    /// Everything written so far (memory sinks only).
    package var contents: String { buffer.withLock { String(decoding: $0, as: UTF8.self) } }
}

/// Process-wide logging set-up, done once.
package enum ServiceLogging {
    private static let bootstrapped = Mutex(false)

    /// Routes every `Logger` of the process to JSON lines labelled with the service id.
    package static func bootstrap(serviceID: String, level: Logger.Level) {
        let first = bootstrapped.withLock { done in
            defer { done = true }
            return !done
        }
        guard first else { return }
        LoggingSystem.bootstrap { _ in JSONLogHandler(service: serviceID, level: level) }
    }
}
