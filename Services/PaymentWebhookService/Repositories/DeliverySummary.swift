import Foundation

/// A stored delivery's processing state, as admins see it: never its body.
struct DeliverySummary: Sendable, Equatable {
    var id: UUID
    var eventName: String
    var status: DeliveryStatus
    var testMode: Bool
    var attempts: Int
    var lastError: String?
    var receivedAt: Date
    var nextAttemptAt: Date
    var processedAt: Date?

    var cursor: DeliveryCursor { DeliveryCursor(receivedAt: receivedAt, id: id) }
}

/// A position in the newest-first delivery listing: the last row's receipt time and id.
struct DeliveryCursor: Sendable, Equatable {
    var receivedAt: Date
    var id: UUID

    /// Opaque text form: base64url of `<microseconds since 1970>:<id>`.
    var token: String {
        let micros = Int64((receivedAt.timeIntervalSince1970 * 1_000_000).rounded())
        return Data("\(micros):\(id.uuidString.lowercased())".utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    init(receivedAt: Date, id: UUID) {
        self.receivedAt = receivedAt
        self.id = id
    }

    init?(token: String) {
        var base64 = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64), let text = String(data: data, encoding: .utf8) else { return nil }
        let parts = text.split(separator: ":", maxSplits: 1)
        guard parts.count == 2, let micros = Int64(parts[0]), let id = UUID(uuidString: String(parts[1])) else { return nil }
        self.receivedAt = Date(timeIntervalSince1970: Double(micros) / 1_000_000)
        self.id = id
    }
}
