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
        var limit = 20
        if let raw = query.get("limit") {
            guard let value = Int(raw), (1...100).contains(value) else {
                throw Problem.badRequest("limit must be an integer from 1 to 100.", type: "invalid-query")
            }
            limit = value
        }
        var before: Int64?
        if let raw = query.get("cursor"), !raw.isEmpty {
            guard let sequence = PageCursor.decode(raw) else { throw Problem.badRequest("The cursor is not one this API returned.", type: "invalid-cursor") }
            before = sequence
        }
        let found = try await jobs.jobs(user: user, before: before, limit: limit + 1)
        let page = Array(found.prefix(limit))
        let next = found.count > limit ? page.last.map { PageCursor.encode($0.sequence) } : nil
        let estimates = await submitter.estimator.estimates(for: page)
        return JSONResponse(.ok, JobPage(items: page.map { JobView(job: $0, estimate: estimates[$0.id]) }, nextCursor: next))
    }
}
