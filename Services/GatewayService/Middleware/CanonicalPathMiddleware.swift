import Hummingbird
import ServiceKit

/// Refuses, with 400 `invalid-path`, every request whose path is not in canonical form
/// (`CanonicalPath`), whether or not a route matches it: a trick path gets the same answer
/// everywhere and never reaches the route table or an upstream.
struct CanonicalPathMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        _ = try Self.canonicalPath(of: request)
        return try await next(request, context)
    }

    /// The canonical path of `request`, or the 400 problem.
    static func canonicalPath(of request: Request) throws -> String {
        switch CanonicalPath.canonicalize(request.uri.path) {
        case .success(let path): return path
        case .failure(let rejection): throw Problem.badRequest(rejection.reason, type: "invalid-path")
        }
    }
}
