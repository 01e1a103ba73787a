import Foundation
import HTTPClient
import HTTPTypes
import ServiceKit

/// Turns what another service answered (or failed to answer) into the problem generation answers with.
enum UpstreamProblem {
    /// 503 `upstream-unavailable`: the service could not be reached or timed out.
    static func unavailable(_ service: String, _ error: HTTPClientError) -> Problem {
        Problem(.serviceUnavailable, type: "upstream-unavailable", detail: "The \(service) service is unavailable; try again later.")
    }

    /// 502 `upstream-unavailable`: the service answered something generation cannot use.
    static func badAnswer(_ service: String, status: Int) -> Problem {
        Problem(.badGateway, type: "upstream-unavailable", detail: "The \(service) service answered unexpectedly (\(status)).")
    }

    /// The upstream problem+json passed on with its status, type slug, title, detail and extension
    /// members (such as `errors`); nil when the body is not a problem object.
    static func passThrough(_ response: HTTPClientResponse) -> Problem? {
        guard let object = try? JSONDecoder().decode([String: JSONValue].self, from: Data(response.body)),
              case .string(let typeURI)? = object["type"]
        else { return nil }
        let slug = typeURI.hasPrefix(Problem.typeBase) ? String(typeURI.dropFirst(Problem.typeBase.count)) : typeURI
        var extensions: [String: ProblemValue] = [:]
        for (key, value) in object where !["type", "title", "status", "detail", "instance", "request_id"].contains(key) {
            if let converted = value.problemValue { extensions[key] = converted }
        }
        var title: String?
        if case .string(let text)? = object["title"] { title = text }
        var detail: String?
        if case .string(let text)? = object["detail"] { detail = text }
        return Problem(
            HTTPResponse.Status(code: response.status), type: slug, title: title, detail: detail, extensions: extensions
        )
    }
}

/// Any JSON value, for reading problem objects of other services.
enum JSONValue: Decodable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    /// The same value as a problem member; null is dropped, fractional numbers become text.
    var problemValue: ProblemValue? {
        switch self {
        case .null: nil
        case .bool(let value): .bool(value)
        case .number(let value): value.rounded() == value && abs(value) < 1e15 ? .int(Int(value)) : .string(String(value))
        case .string(let value): .string(value)
        case .array(let values): .array(values.compactMap(\.problemValue))
        case .object(let members): .object(members.compactMapValues(\.problemValue))
        }
    }
}
