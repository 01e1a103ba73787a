import Core
import Foundation

/// One stored image with everything the API shows about it.
struct ImageRecord: Sendable, Equatable {
    var id: ImageID
    var generationID: JobID
    var userID: UserID
    var width: Int
    var height: Int
    var seed: Int64
    var prompt: String
    var negativePrompt: String?
    var model: String
    var engine: String
    var storageKey: String
    var contentType: String
    var bytes: Int
    var visibility: ImageVisibility
    var title: String?
    var tags: [String]
    var createdAt: Date

    /// Who may read the record and its content: the owner always, others when it is not private.
    func isVisible(to caller: UserID?) -> Bool {
        caller == userID || visibility != .private
    }
}

/// What `PATCH /api/v1/images/{id}` may change.
struct ImageChanges: Sendable, Equatable {
    var visibility: ImageVisibility?
    var title: String??
    var tags: [String]?
}

/// A position in a newest-first listing: the last item's creation time and id.
struct ImageCursor: Sendable, Equatable {
    var createdAt: Date
    var id: ImageID

    /// Opaque text form: base64url of `<microseconds since 1970>:<id>`.
    var token: String {
        let micros = Int64((createdAt.timeIntervalSince1970 * 1_000_000).rounded())
        return Data("\(micros):\(id)".utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    init(createdAt: Date, id: ImageID) {
        self.createdAt = createdAt
        self.id = id
    }

    init?(token: String) {
        var base64 = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64), let text = String(data: data, encoding: .utf8) else { return nil }
        let parts = text.split(separator: ":", maxSplits: 1)
        guard parts.count == 2, let micros = Int64(parts[0]), let id = ImageID(String(parts[1])) else { return nil }
        self.createdAt = Date(timeIntervalSince1970: Double(micros) / 1_000_000)
        self.id = id
    }
}
