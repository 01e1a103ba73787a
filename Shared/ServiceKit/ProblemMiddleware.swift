import Foundation
import HTTPTypes
package import Hummingbird
import Logging
import PostgresClient

/// Turns every error a route throws into problem+json.
///
/// `Problem` passes through; Hummingbird's own `HTTPError` (unknown route, body too large, bad JSON)
/// keeps its status under a stable type; PostgreSQL or Redis being unreachable is a 503
/// `dependency-unavailable` with `Retry-After`; anything else is a 500 whose detail goes to the log only.
package struct ProblemMiddleware<Context: Hummingbird.RequestContext>: RouterMiddleware {
    package init() {}

    package func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let problem as Problem {
            return try problem.response(from: request, context: context)
        } catch let error as HTTPError {
            return try Self.problem(for: error).response(from: request, context: context)
        } catch is DecodingError {
            return try Problem.badRequest("The request body is not valid JSON of the expected shape.", type: "invalid-body")
                .response(from: request, context: context)
        } catch let error as any HTTPResponseError {
            return try Problem(error.status, type: Self.slug(for: error.status)).response(from: request, context: context)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            if let rejected = Self.rejectedText(error) {
                context.logger.info("text refused by PostgreSQL", metadata: ["error": "\(error)"])
                return try rejected.response(from: request, context: context)
            }
            if let dependency = DependencyUnavailable.dependency(of: error) {
                context.logger.warning("dependency unavailable", metadata: ["dependency": "\(dependency)", "error": "\(error)"])
                return try Problem(
                    .serviceUnavailable, type: "dependency-unavailable", title: "Temporarily unavailable",
                    detail: "A service this request needs (\(dependency)) is unavailable; retry shortly.",
                    extensions: ["dependency": .string(dependency)], headers: [.retryAfter: "2"]
                ).response(from: request, context: context)
            }
            context.logger.error("unhandled error", metadata: ["error": "\(String(reflecting: error))"])
            return try Problem(.internalServerError, type: "internal", detail: "An unexpected error occurred.")
                .response(from: request, context: context)
        }
    }

    /// PostgreSQL refuses text that contains NUL (U+0000, also as `\\u0000` inside JSON): the input's
    /// fault, so 422 `validation-failed` rather than a 500, for any field a route forgot to check.
    static func rejectedText(_ error: any Error) -> Problem? {
        guard let error = error as? PostgresError, let state = error.sqlState, ["22021", "22P05"].contains(state) else { return nil }
        return Problem(
            .unprocessableContent, type: "validation-failed", title: "Validation failed",
            detail: "Text must not contain NUL characters (U+0000)."
        )
    }

    static func problem(for error: HTTPError) -> Problem {
        var detail = error.body
        // Hummingbird names the offending field of a decoding failure ("Coding key `steps` not found.",
        // "Type mismatch for `width` key, expected `Int` type."): worth keeping. Its text for broken
        // JSON quotes Foundation's internals instead, so that becomes a plain sentence.
        if error.status == .badRequest {
            let namesField = ["Coding key", "Value not found", "Type mismatch"].contains { detail?.hasPrefix($0) == true }
            detail = namesField ? "The request body is not valid: \(detail!)" : "The request body is not valid JSON of the expected shape."
        }
        var problem = Problem(error.status, type: slug(for: error.status), detail: detail)
        if error.status == .badRequest { problem.type = "invalid-body" }
        for field in error.headers where field.name != .contentType && field.name != .contentLength {
            problem.headers.append(field)
        }
        return problem
    }

    static func slug(for status: HTTPResponse.Status) -> String {
        switch status.code {
        case 400: "bad-request"
        case 401: "unauthorized"
        case 403: "forbidden"
        case 404: "not-found"
        case 405: "method-not-allowed"
        case 409: "conflict"
        case 413: "payload-too-large"
        case 415: "unsupported-media-type"
        case 422: "validation-failed"
        case 429: "rate-limited"
        case 502: "bad-gateway"
        case 503: "service-unavailable"
        case 504: "gateway-timeout"
        default: status.code >= 500 ? "internal" : "http-\(status.code)"
        }
    }
}
