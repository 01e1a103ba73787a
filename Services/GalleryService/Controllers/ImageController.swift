import Core
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ServiceKit

/// The public image routes: the owner's gallery, one image and its PNG, edits, deletion, the public feed.
///
/// An image someone may not see answers 404, never 403, so ids of private images leak nothing.
struct ImageController: Sendable {
    let repository: any ImageRepository
    let storage: any ImageStorage
    /// How long a presigned content URL stays valid.
    var presignTTL: Duration = .seconds(300)
    /// Public images redirect to `<base>/<object>` when set and the storage is a bucket.
    var cdnBaseURL: String?
    /// generation, for remixes; nil: remix answers 503.
    var generation: GenerationUpstream?
    /// What an image must pass before it becomes public.
    var moderation = ModerationPolicy(blocklist: [], classifier: nil)

    /// Mounted at `/api/v1`.
    var routes: RouteCollection<ServiceRequestContext> {
        let routes = RouteCollection(context: ServiceRequestContext.self)
        routes.get("images", use: list)
        routes.get("images/:id", use: show)
        routes.get("images/:id/content", use: content)
        routes.get("images/:id/thumbnail", use: thumbnail)
        routes.post("images/:id/remix", use: remix)
        routes.patch("images/:id", use: update)
        routes.delete("images/:id", use: delete)
        routes.get("explore", use: explore)
        return routes
    }

    struct ImageDTO: Codable, Equatable, Sendable {
        var id: String
        var generationID: String
        var width: Int
        var height: Int
        var seed: Int64
        var prompt: String
        var negativePrompt: String?
        var model: String
        var engine: String
        var visibility: ImageVisibility
        var title: String?
        var tags: [String]
        var createdAt: String
        var url: String
        /// The small copy for listings; the full image for images from before thumbnails.
        var thumbnailURL: String
        /// How it was made; null for images from before recipes were kept.
        var recipe: ImageRecipe?
        /// Hidden by an admin: only the owner (and admins' routes) see it then.
        var hidden: Bool
        var hiddenReason: String?

        init(_ record: ImageRecord) {
            id = record.id.description
            generationID = record.generationID.description
            width = record.width
            height = record.height
            seed = record.seed
            prompt = record.prompt
            negativePrompt = record.negativePrompt
            model = record.model
            engine = record.engine
            visibility = record.visibility
            title = record.title
            tags = record.tags
            createdAt = WireCodec.formatDate(record.createdAt)
            url = "/api/v1/images/\(record.id)/content"
            thumbnailURL = "/api/v1/images/\(record.id)/thumbnail"
            recipe = record.recipe
            hidden = record.hiddenAt != nil
            hiddenReason = record.hiddenReason
        }

        enum CodingKeys: String, CodingKey {
            case id, width, height, seed, prompt, model, engine, visibility, title, tags, url, recipe, hidden
            case hiddenReason = "hidden_reason"
            case generationID = "generation_id"
            case negativePrompt = "negative_prompt"
            case createdAt = "created_at"
            case thumbnailURL = "thumbnail_url"
        }
    }

    typealias Page = CursorPage<ImageDTO>

    struct Changes: Decodable {
        var visibility: ImageVisibility?
        var title: String??
        var tags: [String]?

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            visibility = try container.decodeIfPresent(ImageVisibility.self, forKey: .visibility)
            title = container.contains(.title) ? .some(try container.decodeIfPresent(String.self, forKey: .title)) : nil
            tags = try container.decodeIfPresent([String].self, forKey: .tags)
        }
        enum CodingKeys: String, CodingKey { case visibility, title, tags }
    }

    @Sendable func list(_ request: Request, context: ServiceRequestContext) async throws -> JSONResponse<Page> {
        let caller = try CallerIdentity.require(request)
        let (cursor, limit) = try Self.paging(request)
        var query = request.uri.queryParameters.get("q")?.trimmingCharacters(in: .whitespaces)
        if query?.isEmpty == true { query = nil }
        if let query, query.count > 200 { throw Problem.validation(["q": "at most 200 characters"]) }
        if let query, query.unicodeScalars.contains("\0") { throw Problem.validation(["q": "must not contain NUL characters"]) }
        let records = try await repository.list(owner: caller.userID, query: query, after: cursor, limit: limit + 1)
        return Self.page(records, limit: limit)
    }

    @Sendable func explore(_ request: Request, context: ServiceRequestContext) async throws -> JSONResponse<Page> {
        let (cursor, limit) = try Self.paging(request)
        return Self.page(try await repository.listPublic(after: cursor, limit: limit + 1), limit: limit)
    }

    @Sendable func show(_ request: Request, context: ServiceRequestContext) async throws -> Response {
        try ETaggedJSON.response(ImageDTO(try await visibleImage(request, context: context)), request: request)
    }

    @Sendable func content(_ request: Request, context: ServiceRequestContext) async throws -> Response {
        let record = try await visibleImage(request, context: context)
        return try await deliver(record.storageKey, of: record, request: request, context: context)
    }

    @Sendable func thumbnail(_ request: Request, context: ServiceRequestContext) async throws -> Response {
        let record = try await visibleImage(request, context: context)
        return try await deliver(record.thumbnailKey ?? record.storageKey, of: record, request: request, context: context)
    }

    @Sendable func update(_ request: Request, context: ServiceRequestContext) async throws -> JSONResponse<ImageDTO> {
        let caller = try CallerIdentity.require(request)
        let id = try Self.imageID(context)
        let changes = try await request.decode(as: Changes.self, context: context)
        var errors: [String: String] = [:]
        if let title = changes.title ?? nil {
            if title.count > 200 { errors["title"] = "at most 200 characters" }
            if title.unicodeScalars.contains("\0") { errors["title"] = "must not contain NUL characters" }
        }
        if let tags = changes.tags {
            if tags.count > 20 { errors["tags"] = "at most 20 tags" }
            if tags.contains(where: { $0.isEmpty || $0.count > 40 }) { errors["tags"] = "each tag 1 to 40 characters" }
            if tags.contains(where: { $0.unicodeScalars.contains("\0") }) { errors["tags"] = "must not contain NUL characters" }
        }
        guard errors.isEmpty else { throw Problem.validation(errors) }
        try await moderate(id, owner: caller.userID, changes: changes)
        guard let updated = try await repository.update(
            id, owner: caller.userID, changes: ImageChanges(visibility: changes.visibility, title: changes.title, tags: changes.tags)
        ) else { throw Problem.notFound("No such image.") }
        return JSONResponse(.ok, ImageDTO(updated))
    }

    @Sendable func delete(_ request: Request, context: ServiceRequestContext) async throws -> Response {
        let caller = try CallerIdentity.require(request)
        guard let deleted = try await repository.delete(try Self.imageID(context), owner: caller.userID) else {
            throw Problem.notFound("No such image.")
        }
        do {
            try await storage.delete(deleted.storageKey)
            if let thumbnail = deleted.thumbnailKey { try await storage.delete(thumbnail) }
        } catch {
            // The record is gone, so nobody can reach the file; a leftover file is only disk space.
            context.logger.error("could not delete image file", metadata: ["image_id": "\(deleted.id)", "error": "\(error)"])
        }
        return Response(status: .noContent)
    }

    /// Runs the moderation step when the image would be public after `changes` with text not yet
    /// checked (it becomes public, or its title or tags change while public); throws 422
    /// `moderation-rejected`, or 503 `moderation-unavailable` when the classifier cannot answer.
    func moderate(_ id: ImageID, owner: UserID, changes: Changes) async throws {
        guard changes.visibility == .public || changes.title != nil || changes.tags != nil else { return }
        guard let current = try await repository.find(id), current.userID == owner else { return }  // the update answers 404
        let becomesPublic = (changes.visibility ?? current.visibility) == .public
        guard becomesPublic, current.visibility != .public || changes.title != nil || changes.tags != nil else { return }
        let submission = ModerationSubmission(
            imageID: id.description, prompt: current.prompt, title: changes.title ?? current.title, tags: changes.tags ?? current.tags,
            contentURL: try await storage.presignedURL(for: current.storageKey, expires: .seconds(600))?.absoluteString
        )
        if case .rejected(let reason) = try await moderation.check(submission) {
            throw Problem(.unprocessableContent, type: "moderation-rejected", detail: reason)
        }
    }

    func visibleImage(_ request: Request, context: ServiceRequestContext) async throws -> ImageRecord {
        let caller = CallerIdentity(request: request)
        guard let record = try await repository.find(try Self.imageID(context)), record.isVisible(to: caller?.userID) else {
            throw Problem.notFound("No such image.")
        }
        return record
    }

    static func imageID(_ context: ServiceRequestContext) throws -> ImageID {
        guard let raw = context.parameters.get("id"), let id = ImageID(raw) else { throw Problem.notFound("No such image.") }
        return id
    }

    static func paging(_ request: Request) throws -> (PageCursor?, Int) {
        let parameters = request.uri.queryParameters
        var limit = 20
        if let raw = parameters.get("limit") {
            guard let value = Int(raw), (1...100).contains(value) else { throw Problem.validation(["limit": "a whole number from 1 to 100"]) }
            limit = value
        }
        var cursor: PageCursor?
        if let raw = parameters.get("cursor"), !raw.isEmpty {
            guard let parsed = PageCursor(token: raw) else { throw Problem.badRequest("The cursor is not one this API gave out.", type: "invalid-cursor") }
            cursor = parsed
        }
        return (cursor, limit)
    }

    static func page(_ records: [ImageRecord], limit: Int) -> JSONResponse<Page> {
        let items = Array(records.prefix(limit))
        let next = records.count > limit ? items.last.map { PageCursor(time: $0.createdAt, id: $0.id.uuid).token } : nil
        return JSONResponse(.ok, Page(items: items.map(ImageDTO.init), nextCursor: next))
    }
}
