import Core
import Hummingbird
import Logging
import ServiceKit

/// `POST /internal/images`: generation records a succeeded job's images here before it marks the
/// job succeeded, so a client that reads `succeeded` finds its images listed and their content
/// served at once (read-your-writes by construction). The body is the `generation.completed`
/// payload; recording is idempotent by image id, and the event that follows changes nothing.
struct InternalImageController {
    let repository: any ImageRepository

    var routes: RouteCollection<ServiceRequestContext> {
        let routes = RouteCollection(context: ServiceRequestContext.self)
        routes.post { request, context in try await record(request, context: context) }
        return routes
    }

    func record(_ request: Request, context: ServiceRequestContext) async throws -> Response {
        let completed = try await request.decode(as: GenerationCompleted.self, context: context)
        let inserted = try await repository.record(GenerationCompletedConsumer.records(completed))
        context.logger.info("recorded images before the job reads succeeded", metadata: [
            "job_id": "\(completed.jobID)", "new": "\(inserted)",
        ])
        return Response(status: .noContent)
    }
}
