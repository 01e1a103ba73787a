import Core
import Foundation
package import Hummingbird
import HTTPTypes
import PingvasCrypto

/// A JSON read with a validator: `ETag` (weak, from the body's SHA-256) on a 200, and 304 without a
/// body when `If-None-Match` names it (or is `*`), so clients polling a job or an image pay nothing
/// while it has not changed. Generation's job reads and gallery's image reads answer through it.
package enum ETaggedJSON {
    package static func response<Value: Encodable & Sendable>(_ value: Value, request: Request) throws -> Response {
        let bytes = try WireCodec.encodeBody(value)
        let tag = "W/\"\(SHA256Digest.hex(bytes).prefix(32))\""
        if let header = request.headers[.ifNoneMatch] {
            let own = tag.dropFirst(2)
            let named = header.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            if named.contains(where: { $0 == "*" || ($0.hasPrefix("W/") ? $0.dropFirst(2) : Substring($0)) == own }) {
                return Response(status: .notModified, headers: [.eTag: tag])
            }
        }
        return Response.json(.ok, bytes: bytes, headers: [.eTag: tag])
    }
}
