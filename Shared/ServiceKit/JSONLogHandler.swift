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
        var object: [String: Any] = [
            "ts": Self.timestamp(),
            "level": event.level.rawValue,
            "service": service,
            "msg": event.message.description,
        ]
        if event.level >= .error { object["source"] = "\(event.file):\(event.line)" }
        for (key, value) in merged where object[key] == nil {
            object[key] = Self.isSecret(key) ? "[redacted]" : Self.jsonValue(value)
        }
        guard var line = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else { return }
        line.append(0x0A)
        sink.write(line)
    }

    static func isSecret(_ key: String) -> Bool {
        let lowered = key.lowercased()
        return ["password", "token", "authorization", "signature", "secret", "cookie", "api_key"].contains { lowered.contains($0) }
    }

    static func jsonValue(_ value: Logger.MetadataValue) -> Any {
        switch value {
        case .string(let string): string
        case .stringConvertible(let convertible): convertible.description
        case .array(let array): array.map(jsonValue)
        case .dictionary(let dictionary): dictionary.mapValues(jsonValue)
        }
    }

    static func timestamp() -> String {
        Date().formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
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

    func write(_ line: Data) {
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
