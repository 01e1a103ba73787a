import Core
import Foundation
import Hummingbird
import ServiceKit

extension AdminJobController {
    /// `GET /api/v1/admin/jobs?user_id=&cursor=&limit=`: one user's jobs, newest first, paged like
    /// the owner's own list (role `admin`).
    @Sendable func userJobs(_ request: Request, context: ServiceRequestContext) async throws -> JSONResponse<JobPage> {
        try CallerIdentity.requireAdmin(request, to: "look at users' jobs")
        let query = request.uri.queryParameters
        guard let raw = query.get("user_id"), let user = UserID(raw) else {
            throw Problem.badRequest("user_id is required: a user id (a UUID).", type: "invalid-query")
        }
        return JSONResponse(.ok, try await submitter.page(of: user, request: request))
    }
}
