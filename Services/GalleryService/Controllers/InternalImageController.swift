import Core
import Hummingbird
import Logging
import ServiceKit

/// `POST /internal/images`: generation records a succeeded job's images here before it marks the
/// job succeeded, so a client that reads `succeeded` finds its images listed and their content
/// served at once (read-your-writes by construction). The body is the `generation.completed`
/// payload; recording is idempotent by image id, and the event that follows changes nothing.
///
/// `GET /internal/images/{id}?owner=<user id>`: generation asks, before it holds any credit, whether
/// an `init_image_id` is an image of the caller; 200 `{id, width, height}` when it is, 404 when the
/// image does not exist or belongs to someone else (one answer for both).
struct InternalImageController {
    let repository: any ImageRepository

    var routes: RouteCollection<ServiceRequestContext> {
        let routes = RouteCollection(context: ServiceRequestContext.self)
        routes.post { request, context in try await record(request, context: context) }
        routes.get("{id}") { request, context in try await owned(request, context: context) }
        return routes
    }

    /// What generation learns about an init image of the owner's.
    struct OwnedImage: Codable, Sendable {
        var id: ImageID
        var width: Int
        var height: Int
    }

    func owned(_ request: Request, context: ServiceRequestContext) async throws -> JSONResponse<OwnedImage> {
        let notFound = Problem.notFound("No such image of this owner.")
        guard let raw = context.parameters.get("id"), let id = ImageID(raw) else { throw notFound }
        guard let rawOwner = request.uri.queryParameters.get("owner"), let owner = UserID(rawOwner) else {
            throw Problem.badRequest("owner must be a user id.", type: "invalid-query")
        }
        guard let image = try await repository.find(id), image.userID == owner else { throw notFound }
        return JSONResponse(.ok, OwnedImage(id: image.id, width: image.width, height: image.height))
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
