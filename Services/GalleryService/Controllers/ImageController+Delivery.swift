import Core
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ServiceKit

/// How image bytes reach the client: a redirect where the storage can hand out URLs (the CDN for
/// public images, else a short-lived presigned URL), otherwise the bytes from here with validators,
/// conditional GET and single byte ranges. Presigned URLs are never logged.
extension ImageController {
    func deliver(_ key: String, of record: ImageRecord, request: Request, context: ServiceRequestContext) async throws -> Response {
        let isPublic = record.visibility == .public
        if isPublic, let cdnBaseURL, let path = storage.cdnPath(for: key) {
            return Self.redirect(to: "\(cdnBaseURL)/\(path)", cacheControl: "public, max-age=3600")
        }
        if let url = try await storage.presignedURL(for: key, expires: presignTTL) {
            // The URL expires; a cached redirect would outlive it.
            return Self.redirect(to: url.absoluteString, cacheControl: "private, no-store")
        }
        guard let object = try await storage.head(key) else { throw Self.missing(record, key: key, context: context) }
        var headers: HTTPFields = [
            .contentType: record.contentType, .eTag: object.etag, .lastModified: HTTPDate.format(object.lastModified),
            .cacheControl: isPublic ? "public, max-age=86400, immutable" : "private, max-age=3600", .acceptRanges: "bytes",
        ]
        if Self.notModified(request.headers, object: object) {
            headers[.contentType] = nil
            return Response(status: .notModified, headers: headers)
        }
        let range: ClosedRange<Int>?
        switch Self.byteRange(request.headers, object: object) {
        case .whole: range = nil
        case .partial(let bounds): range = bounds
        case .unsatisfiable:
            throw Problem(
                .rangeNotSatisfiable, type: "range-not-satisfiable", detail: "The image has \(object.size) bytes.",
                headers: [.contentRange: "bytes */\(object.size)"]
            )
        }
        guard let bytes = try await storage.read(key) else { throw Self.missing(record, key: key, context: context) }
        guard let range, range.upperBound < bytes.count else {
            headers[.contentLength] = String(bytes.count)
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        headers[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound)/\(bytes.count)"
        headers[.contentLength] = String(range.count)
        return Response(status: .partialContent, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes[range])))
    }

    static func redirect(to location: String, cacheControl: String) -> Response {
        Response(status: .found, headers: [.location: location, .cacheControl: cacheControl])
    }

    static func missing(_ record: ImageRecord, key: String, context: ServiceRequestContext) -> Problem {
        context.logger.error("image object missing", metadata: ["image_id": "\(record.id)", "storage_key": "\(key)"])
        return Problem(.notFound, type: "content-missing", detail: "The image file is gone.")
    }

    /// `If-None-Match` (weak comparison, `*`), or else `If-Modified-Since` at second precision.
    static func notModified(_ headers: HTTPFields, object: StoredObject) -> Bool {
        if let match = headers[.ifNoneMatch] {
            let tags = match.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            let own = object.etag.hasPrefix("W/") ? String(object.etag.dropFirst(2)) : object.etag
            return tags.contains { $0 == "*" || ($0.hasPrefix("W/") ? String($0.dropFirst(2)) : $0) == own }
        }
        if let since = headers[.ifModifiedSince].flatMap(HTTPDate.parse) {
            return object.lastModified.timeIntervalSince1970.rounded(.down) <= since.timeIntervalSince1970
        }
        return false
    }

    enum ByteRange: Equatable {
        case whole
        case partial(ClosedRange<Int>)
        case unsatisfiable
    }

    /// One `bytes=` range (`a-b`, `a-`, `-n`). Several ranges, other units, a malformed header or an
    /// `If-Range` that does not match the current ETag mean the whole image (RFC 9110 lets a server
    /// ignore Range); a range starting past the end is unsatisfiable.
    static func byteRange(_ headers: HTTPFields, object: StoredObject) -> ByteRange {
        guard let header = headers[.range]?.trimmingCharacters(in: .whitespaces), header.hasPrefix("bytes=") else { return .whole }
        if let ifRange = headers[.ifRange], ifRange != object.etag { return .whole }
        let spec = header.dropFirst("bytes=".count)
        guard !spec.contains(","), let dash = spec.firstIndex(of: "-") else { return .whole }
        let first = spec[..<dash].trimmingCharacters(in: .whitespaces)
        let last = spec[spec.index(after: dash)...].trimmingCharacters(in: .whitespaces)
        let size = object.size
        if first.isEmpty {
            guard let suffix = Int(last), suffix >= 0 else { return .whole }
            guard suffix > 0, size > 0 else { return .unsatisfiable }
            return .partial(max(0, size - suffix)...(size - 1))
        }
        guard let start = Int(first), start >= 0 else { return .whole }
        let end: Int
        if last.isEmpty {
            end = size - 1
        } else {
            guard let value = Int(last), value >= start else { return .whole }
            end = min(value, size - 1)
        }
        guard start < size else { return .unsatisfiable }
        return .partial(start...end)
    }
}
