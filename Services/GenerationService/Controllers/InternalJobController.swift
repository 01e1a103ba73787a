import Core
import Hummingbird
import ServiceKit

/// `GET /internal/jobs/{id}` → `{id, status}` or 404: whether a job exists, for the user service's
/// sweep of holds whose job was never written.
struct InternalJobController: Sendable {
    let jobs: any JobRepository

    /// Mounted at `/internal/jobs`.
    var routes: RouteCollection<ServiceRequestContext> {
        let routes = RouteCollection(context: ServiceRequestContext.self)
        routes.get("{id}", use: show)
        return routes
    }

    struct JobState: Encodable, Sendable {
        var id: JobID
        var status: JobStatus
    }

    @Sendable func show(_ request: Request, context: ServiceRequestContext) async throws -> JSONResponse<JobState> {
        guard let raw = context.parameters.get("id"), let id = JobID(raw), let job = try await jobs.job(id: id) else {
            throw Problem.notFound("No such job.")
        }
        return JSONResponse(.ok, JobState(id: job.id, status: job.status))
    }
}
