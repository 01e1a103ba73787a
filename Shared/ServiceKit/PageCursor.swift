package import Foundation

/// A position in a newest-first listing ordered by `(time, id)`: the last item's time and id.
///
/// Clients see only `token`, an opaque base64url string of `<microseconds since 1970>:<uuid>`;
/// `init?(token:)` refuses anything this API did not hand out.
package struct PageCursor: Sendable, Equatable {
    package var time: Date
    package var id: UUID

    package init(time: Date, id: UUID) {
        self.time = time
        self.id = id
    }

    package var token: String {
        let micros = Int64((time.timeIntervalSince1970 * 1_000_000).rounded())
        return Data("\(micros):\(id.uuidString.lowercased())".utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    package init?(token: String) {
        var base64 = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64), let text = String(data: data, encoding: .utf8) else { return nil }
        let parts = text.split(separator: ":", maxSplits: 1)
        guard parts.count == 2, let micros = Int64(parts[0]), let id = UUID(uuidString: String(parts[1])) else { return nil }
        self.time = Date(timeIntervalSince1970: Double(micros) / 1_000_000)
        self.id = id
    }
}

/// One page of a cursor-paged list, `{items, next_cursor}`: `next_cursor` is always present, null on
/// the last page (as every list of the public API answers).
package struct CursorPage<Item: Encodable & Sendable>: Encodable, Sendable {
    package var items: [Item]
    package var nextCursor: String?

    package init(items: [Item], nextCursor: String?) {
        self.items = items
        self.nextCursor = nextCursor
    }

    enum CodingKeys: String, CodingKey {
        case items
        case nextCursor = "next_cursor"
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(items, forKey: .items)
        try container.encode(nextCursor, forKey: .nextCursor)
    }
}
