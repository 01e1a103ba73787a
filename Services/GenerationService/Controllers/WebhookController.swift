import Core
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ServiceKit

/// `/api/v1/webhooks`: the caller's completion webhooks. The signing secret is shown when an
/// endpoint is created and when it is rotated, never otherwise; someone else's endpoint is a 404.
struct WebhookController: Sendable {
    let webhooks: any WebhookRepository
    let target: WebhookTarget
    static let maxEndpoints = 10

    /// Mounted at `/api/v1/webhooks`.
    var routes: RouteCollection<ServiceRequestContext> {
        let routes = RouteCollection(context: ServiceRequestContext.self)
        routes.post(use: create)
        routes.get(use: list)
        routes.get("{id}", use: show)
        routes.delete("{id}", use: delete)
        routes.post("{id}/rotate-secret", use: rotate)
        routes.post("{id}/enable", use: enable)
        routes.get("default/secret", use: signingSecret)
        return routes
    }

    struct Registration: Decodable {
        var url: String?
        var events: [String]?
    }

    struct EndpointView: Encodable, Sendable {
        var id: String
        var url: String
        var events: [String]
        var createdAt: Date
        /// Since when every attempt has failed; nil while the endpoint is healthy.
        var failingSince: Date?
        /// Disabled for failing too long (`disabled_at`): nothing is sent until `POST .../enable`.
        var disabledAt: Date?
        /// Only in the answers to create and rotate.
        var secret: String?
        /// Only in the answer to show: the most recent deliveries, newest first.
        var deliveries: [DeliveryView]?

        enum CodingKeys: String, CodingKey {
            case id, url, events, secret, deliveries, disabled
            case createdAt = "created_at"
            case failingSince = "failing_since"
            case disabledAt = "disabled_at"
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(id, forKey: .id)
            try c.encode(url, forKey: .url)
            try c.encode(events, forKey: .events)
            try c.encode(createdAt, forKey: .createdAt)
            try c.encode(disabledAt != nil, forKey: .disabled)
            try c.encode(disabledAt, forKey: .disabledAt)
            try c.encode(failingSince, forKey: .failingSince)
            try c.encodeIfPresent(secret, forKey: .secret)
            try c.encodeIfPresent(deliveries, forKey: .deliveries)
        }

        init(_ endpoint: WebhookEndpoint, secret: Bool = false, deliveries: [WebhookDelivery]? = nil) {
            id = endpoint.id.uuidString.lowercased()
            url = endpoint.url
            events = endpoint.events.map(\.rawValue)
            createdAt = endpoint.createdAt
            failingSince = endpoint.failingSince
            disabledAt = endpoint.disabledAt
            self.secret = secret ? endpoint.secret : nil
            self.deliveries = deliveries?.map(DeliveryView.init)
        }
    }

    struct DeliveryView: Encodable, Sendable {
        var id: String
        var generationID: String
        var event: String
        var status: String
        var attempts: Int
        var lastStatusCode: Int?
        var lastError: String?
        var createdAt: Date
        var nextAttemptAt: Date?
        var deliveredAt: Date?

        enum CodingKeys: String, CodingKey {
            case id, event, status, attempts
            case generationID = "generation_id"
            case lastStatusCode = "last_status_code"
            case lastError = "last_error"
            case createdAt = "created_at"
            case nextAttemptAt = "next_attempt_at"
            case deliveredAt = "delivered_at"
        }

        init(_ delivery: WebhookDelivery) {
            id = delivery.id.uuidString.lowercased()
            generationID = delivery.jobID.uuidString.lowercased()
            event = delivery.event
            status = delivery.status
            attempts = delivery.attempts
            lastStatusCode = delivery.lastStatusCode
            lastError = delivery.lastError
            createdAt = delivery.createdAt
            nextAttemptAt = delivery.status == "pending" ? delivery.nextAttemptAt : nil
            deliveredAt = delivery.deliveredAt
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(id, forKey: .id)
            try c.encode(generationID, forKey: .generationID)
            try c.encode(event, forKey: .event)
            try c.encode(status, forKey: .status)
            try c.encode(attempts, forKey: .attempts)
            try c.encode(lastStatusCode, forKey: .lastStatusCode)
            try c.encode(lastError, forKey: .lastError)
            try c.encode(createdAt, forKey: .createdAt)
            try c.encode(nextAttemptAt, forKey: .nextAttemptAt)
            try c.encode(deliveredAt, forKey: .deliveredAt)
        }
    }

    struct EndpointList: Encodable, Sendable {
        var items: [EndpointView]
    }

    @Sendable func create(_ request: Request, context: ServiceRequestContext) async throws -> JSONResponse<EndpointView> {
        let caller = try CallerIdentity.require(request)
        let body = try await request.decode(as: Registration.self, context: context)
        var errors: [String: String] = [:]
        var events: [WebhookEvent] = WebhookEvent.allCases
        if let names = body.events {
            let parsed = names.compactMap(WebhookEvent.init(rawValue:))
            if names.isEmpty || parsed.count != names.count {
                errors["events"] = "a non-empty list of " + WebhookEvent.allCases.map(\.rawValue).joined(separator: ", ")
            } else {
                events = WebhookEvent.allCases.filter(parsed.contains)
            }
        }
        if let url = body.url {
            if let problem = await target.problem(with: url) { errors["url"] = problem }
        } else {
            errors["url"] = "is required"
        }
        guard errors.isEmpty, let url = body.url else { throw Problem.validation(errors) }
        guard try await webhooks.endpoints(user: caller.userID.uuid).count < Self.maxEndpoints else {
            throw Problem.conflict("At most \(Self.maxEndpoints) webhook endpoints per user.", type: "too-many-webhooks")
        }
        let endpoint = WebhookEndpoint(
            id: UUID(), userID: caller.userID.uuid, url: url, events: events, secret: WebhookSigner.makeSecret(), createdAt: Date()
        )
        try await webhooks.create(endpoint)
        context.logger.info("webhook endpoint registered", metadata: ["user_id": "\(caller.userID)", "webhook_id": "\(endpoint.id)"])
        return JSONResponse(.created, EndpointView(endpoint, secret: true), headers: [.location: "/api/v1/webhooks/\(endpoint.id.uuidString.lowercased())"])
    }

    @Sendable func list(_ request: Request, context: ServiceRequestContext) async throws -> JSONResponse<EndpointList> {
        let caller = try CallerIdentity.require(request)
        return JSONResponse(.ok, EndpointList(items: try await webhooks.endpoints(user: caller.userID.uuid).map { EndpointView($0) }))
    }

    @Sendable func show(_ request: Request, context: ServiceRequestContext) async throws -> JSONResponse<EndpointView> {
        let caller = try CallerIdentity.require(request)
        let endpoint = try await owned(context, caller)
        return JSONResponse(.ok, EndpointView(endpoint, deliveries: try await webhooks.deliveries(endpoint: endpoint.id, limit: 20)))
    }

    @Sendable func delete(_ request: Request, context: ServiceRequestContext) async throws -> Response {
        let caller = try CallerIdentity.require(request)
        guard let id = Self.id(context), try await webhooks.delete(id: id, user: caller.userID.uuid) else { throw Problem.notFound("No such webhook.") }
        return Response(status: .noContent)
    }

    @Sendable func rotate(_ request: Request, context: ServiceRequestContext) async throws -> JSONResponse<EndpointView> {
        let caller = try CallerIdentity.require(request)
        guard let id = Self.id(context),
              let endpoint = try await webhooks.rotateSecret(id: id, user: caller.userID.uuid, secret: WebhookSigner.makeSecret())
        else { throw Problem.notFound("No such webhook.") }
        return JSONResponse(.ok, EndpointView(endpoint, secret: true))
    }

    /// `POST /api/v1/webhooks/{id}/enable`: sending resumes (events of the last day it missed too) and past failures are forgotten.
    @Sendable func enable(_ request: Request, context: ServiceRequestContext) async throws -> JSONResponse<EndpointView> {
        let caller = try CallerIdentity.require(request)
        guard let id = Self.id(context), let endpoint = try await webhooks.enable(id: id, user: caller.userID.uuid) else {
            throw Problem.notFound("No such webhook.")
        }
        context.logger.info("webhook endpoint enabled", metadata: ["user_id": "\(caller.userID)", "webhook_id": "\(endpoint.id)"])
        return JSONResponse(.ok, EndpointView(endpoint))
    }

    struct SigningSecretView: Encodable, Sendable {
        var secret: String
    }

    /// `GET /api/v1/webhooks/default/secret`: the secret that signs the caller's per-job webhooks
    /// (`webhook` on a submission); the same every time.
    @Sendable func signingSecret(_ request: Request, context: ServiceRequestContext) async throws -> JSONResponse<SigningSecretView> {
        let caller = try CallerIdentity.require(request)
        return JSONResponse(.ok, SigningSecretView(secret: try await webhooks.signingSecret(user: caller.userID.uuid)), headers: [.cacheControl: "no-store"])
    }

    func owned(_ context: ServiceRequestContext, _ caller: CallerIdentity) async throws -> WebhookEndpoint {
        guard let id = Self.id(context), let endpoint = try await webhooks.endpoint(id: id, user: caller.userID.uuid) else {
            throw Problem.notFound("No such webhook.")
        }
        return endpoint
    }

    static func id(_ context: ServiceRequestContext) -> UUID? {
        context.parameters.get("id").flatMap(UUID.init(uuidString:))
    }
}
