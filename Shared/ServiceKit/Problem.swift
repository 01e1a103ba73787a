import Core
import Foundation
package import HTTPTypes
package import Hummingbird

/// An RFC 9457 problem: the only shape in which any service answers an error.
///
/// `type` is a stable slug (`validation-failed`, `not-found`, ...) rendered as
/// `https://pingvas.studio/problems/<slug>`; clients switch on it, never on `title` or `detail`.
package struct Problem: Error, HTTPResponseError, Sendable {
    package static let typeBase = "https://pingvas.studio/problems/"

    package var status: HTTPResponse.Status
    package var type: String
    package var title: String
    package var detail: String?
    /// Extra members of the problem object (e.g. `errors` for field errors, `checks` for readiness).
    package var extensions: [String: ProblemValue]
    package var headers: HTTPFields

    package init(
        _ status: HTTPResponse.Status, type: String, title: String? = nil, detail: String? = nil,
        extensions: [String: ProblemValue] = [:], headers: HTTPFields = [:]
    ) {
        self.status = status
        self.type = type
        self.title = title ?? status.reasonPhrase
        self.detail = detail
        self.extensions = extensions
        self.headers = headers
    }

    package var typeURI: String { Self.typeBase + type }

    package func response(from request: Request, context: some Hummingbird.RequestContext) throws -> Response {
        var object: [String: ProblemValue] = extensions
        object["type"] = .string(typeURI)
        object["title"] = .string(title)
        object["status"] = .int(Int(status.code))
        if let detail { object["detail"] = .string(detail) }
        object["instance"] = .string(request.uri.path)
        if let requestID = Core.RequestContext.requestID { object["request_id"] = .string(requestID) }
        let body = (try? WireCodec.encodeBody(object)) ?? Array("{}".utf8)
        var fields = headers
        fields[.contentType] = "application/problem+json"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}

/// A JSON value inside a problem's extension members.
package enum ProblemValue: Encodable, Sendable, Equatable {
    case string(String)
    case int(Int)
    case bool(Bool)
    case array([ProblemValue])
    case object([String: ProblemValue])

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}

extension Problem {
    package static func badRequest(_ detail: String, type: String = "bad-request") -> Problem {
        Problem(.badRequest, type: type, detail: detail)
    }
    /// 422 with one message per offending field.
    package static func validation(_ errors: [String: String]) -> Problem {
        Problem(
            .unprocessableContent, type: "validation-failed", title: "Validation failed",
            detail: errors.keys.sorted().map { "\($0): \(errors[$0]!)" }.joined(separator: "; "),
            extensions: ["errors": .object(errors.mapValues(ProblemValue.string))]
        )
    }
    package static func notFound(_ detail: String = "No such resource.") -> Problem {
        Problem(.notFound, type: "not-found", detail: detail)
    }
    package static func unauthorized(_ detail: String = "Missing or invalid credentials.") -> Problem {
        Problem(.unauthorized, type: "unauthorized", detail: detail, headers: [.wwwAuthenticate: "Bearer"])
    }
    package static func forbidden(_ detail: String = "Not allowed.") -> Problem {
        Problem(.forbidden, type: "forbidden", detail: detail)
    }
    package static func conflict(_ detail: String, type: String = "conflict") -> Problem {
        Problem(.conflict, type: type, detail: detail)
    }
    package static func tooManyRequests(retryAfterSeconds: Int) -> Problem {
        Problem(
            .tooManyRequests, type: "rate-limited", detail: "Too many requests; retry after \(retryAfterSeconds) s.",
            headers: [.retryAfter: String(retryAfterSeconds)]
        )
    }
    package static func unavailable(_ detail: String, type: String = "service-unavailable") -> Problem {
        Problem(.serviceUnavailable, type: type, detail: detail)
    }
}
