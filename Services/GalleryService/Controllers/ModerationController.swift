import Core
import Foundation
import Hummingbird
import Logging
import ServiceKit

/// Reports of images by signed-in users, and the admins' review: list reports, hide an image from
/// `/explore` and from everyone but its owner, restore it, list every decision.
///
/// Mounted twice: `routes` at `/api/v1` (reports), `adminRoutes` at `/api/v1/admin/images`
/// (admins only: 403 for everyone else; also any user's images, `?user_id=`).
struct ModerationController: Sendable {
    let images: any ImageRepository
    let moderation: any ModerationRepository

    var routes: RouteCollection<ServiceRequestContext> {
        let routes = RouteCollection(context: ServiceRequestContext.self)
        routes.post("images/:id/reports", use: report)
        return routes
    }

    var adminRoutes: RouteCollection<ServiceRequestContext> {
        let routes = RouteCollection(context: ServiceRequestContext.self)
        routes.get(use: userImages)
        routes.get("reports", use: reports)
        routes.get("actions", use: actions)
        routes.post(":id/hide", use: hide)
        routes.post(":id/restore", use: restore)
        return routes
    }

    struct Reason: Decodable {
        var reason: String?
    }

    struct ReportDTO: Encodable, Sendable {
        var id: String
        var imageID: String
        var reporterID: String
        var reason: String
        var createdAt: String
        var imageHidden: Bool
        var imageReports: Int

        enum CodingKeys: String, CodingKey {
            case id, reason
            case imageID = "image_id"
            case reporterID = "reporter_id"
            case createdAt = "created_at"
            case imageHidden = "image_hidden"
            case imageReports = "image_reports"
        }
    }

    struct ActionDTO: Encodable, Sendable {
        var id: String
        var imageID: String
        var adminID: String
        var action: String
        var reason: String?
        var createdAt: String

        enum CodingKeys: String, CodingKey {
            case id, action, reason
            case imageID = "image_id"
            case adminID = "admin_id"
            case createdAt = "created_at"
        }
    }

    typealias Page<Item: Encodable & Sendable> = CursorPage<Item>

    /// `POST /api/v1/images/{id}/reports` `{reason}`: 201 once per user and image, 409 `already-reported` after.
    @Sendable func report(_ request: Request, context: ServiceRequestContext) async throws -> Response {
        let caller = try CallerIdentity.require(request)
        guard let image = try await images.find(try ImageController.imageID(context)), image.isVisible(to: caller.userID) else {
            throw Problem.notFound("No such image.")
        }
        guard image.userID != caller.userID else {
            throw Problem(.unprocessableContent, type: "own-image", detail: "You cannot report your own image; make it private or delete it.")
        }
        guard image.visibility != .private else { throw Problem.notFound("No such image.") }
        let reason = try await Self.reason(request, context: context, required: true)
        guard try await moderation.report(image.id, reporter: caller.userID, reason: reason ?? "") else {
            throw Problem.conflict("You have reported this image already.", type: "already-reported")
        }
        context.logger.info("image reported", metadata: ["image_id": "\(image.id)", "user_id": "\(caller.userID)"])
        return Response(status: .created)
    }

    /// `GET /api/v1/admin/images?user_id=&cursor=&limit=`: one user's images as their owner sees
    /// them (private and hidden ones too), newest first.
    @Sendable func userImages(_ request: Request, context: ServiceRequestContext) async throws -> JSONResponse<ImageController.Page> {
        _ = try CallerIdentity.requireAdmin(request, to: "look at users' images")
        guard let raw = request.uri.queryParameters.get("user_id"), let user = UserID(raw) else {
            throw Problem.badRequest("user_id is required: a user id (a UUID).", type: "invalid-query")
        }
        let (cursor, limit) = try ImageController.paging(request)
        return ImageController.page(try await images.list(owner: user, query: nil, after: cursor, limit: limit + 1), limit: limit)
    }

    @Sendable func reports(_ request: Request, context: ServiceRequestContext) async throws -> JSONResponse<Page<ReportDTO>> {
        _ = try CallerIdentity.requireAdmin(request, to: "review reports")
        let (cursor, limit) = try ImageController.paging(request)
        let rows = try await moderation.reports(after: cursor, limit: limit + 1)
        let items = Array(rows.prefix(limit))
        return JSONResponse(.ok, Page(
            items: items.map {
                ReportDTO(
                    id: $0.id.uuidString.lowercased(), imageID: $0.imageID.description, reporterID: $0.reporterID.description, reason: $0.reason,
                    createdAt: WireCodec.formatDate($0.createdAt), imageHidden: $0.imageHidden, imageReports: $0.imageReports
                )
            },
            nextCursor: rows.count > limit ? items.last.map { PageCursor(time: $0.createdAt, id: $0.id).token } : nil
        ))
    }

    @Sendable func actions(_ request: Request, context: ServiceRequestContext) async throws -> JSONResponse<Page<ActionDTO>> {
        _ = try CallerIdentity.requireAdmin(request, to: "review moderation actions")
        let (cursor, limit) = try ImageController.paging(request)
        let rows = try await moderation.actions(after: cursor, limit: limit + 1)
        let items = Array(rows.prefix(limit))
        return JSONResponse(.ok, Page(
            items: items.map {
                ActionDTO(
                    id: $0.id.uuidString.lowercased(), imageID: $0.imageID.description, adminID: $0.adminID.description, action: $0.action,
                    reason: $0.reason, createdAt: WireCodec.formatDate($0.createdAt)
                )
            },
            nextCursor: rows.count > limit ? items.last.map { PageCursor(time: $0.createdAt, id: $0.id).token } : nil
        ))
    }

    /// `POST /api/v1/admin/images/{id}/hide` `{reason}`: gone from `/explore` and from everyone but the owner.
    @Sendable func hide(_ request: Request, context: ServiceRequestContext) async throws -> JSONResponse<ImageController.ImageDTO> {
        try await decide(request, context: context, hide: true)
    }

    /// `POST /api/v1/admin/images/{id}/restore` `{reason?}`: visible again as its visibility says.
    @Sendable func restore(_ request: Request, context: ServiceRequestContext) async throws -> JSONResponse<ImageController.ImageDTO> {
        try await decide(request, context: context, hide: false)
    }

    private func decide(_ request: Request, context: ServiceRequestContext, hide: Bool) async throws -> JSONResponse<ImageController.ImageDTO> {
        let admin = try CallerIdentity.requireAdmin(request, to: hide ? "hide images" : "restore images")
        let id = try ImageController.imageID(context)
        let reason = try await Self.reason(request, context: context, required: hide)
        guard let image = try await moderation.setHidden(id, hide: hide, admin: admin.userID, reason: reason) else {
            throw Problem.notFound("No such image.")
        }
        context.logger.notice(hide ? "image hidden by an admin" : "image restored by an admin", metadata: ["image_id": "\(id)", "user_id": "\(admin.userID)"])
        return JSONResponse(.ok, ImageController.ImageDTO(image))
    }

    /// The body's `reason`: 1 to 500 characters; an empty body when not `required`.
    static func reason(_ request: Request, context: ServiceRequestContext, required: Bool) async throws -> String? {
        let buffer = try await request.body.collect(upTo: 64 << 10)
        let reason: String?
        if buffer.readableBytes == 0 {
            reason = nil
        } else {
            guard let body = try? JSONDecoder().decode(Reason.self, from: Data(buffer.readableBytesView)) else {
                throw Problem.badRequest("The body must be a JSON object like {\"reason\": \"...\"}.", type: "invalid-body")
            }
            reason = body.reason?.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        if let reason, reason.count > 500 { throw Problem.validation(["reason": "at most 500 characters"]) }
        if let reason, reason.unicodeScalars.contains("\0") { throw Problem.validation(["reason": "must not contain NUL characters"]) }
        if required, reason?.isEmpty ?? true { throw Problem.validation(["reason": "say why, 1 to 500 characters"]) }
        return reason?.isEmpty == true ? nil : reason
    }
}
