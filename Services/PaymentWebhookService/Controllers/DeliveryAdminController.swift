import Core
import Foundation
import Hummingbird
import Logging
import ServiceKit

/// Admin view of the delivery store (role `admin`):
/// `GET /api/v1/billing/admin/deliveries?status=&cursor=&limit=` lists processing state, newest
/// first, never bodies or signatures; `POST /api/v1/billing/admin/deliveries/{id}/replay` puts a
/// finished delivery back to `pending` (202). Effects are idempotent by Lemon Squeezy id, so a
/// replay of a processed delivery changes nothing that is already right.
struct DeliveryAdminController: Sendable {
    let repository: any DeliveryRepository
    let acceptTestMode: Bool

    /// Mounted at `/api/v1/billing/admin/deliveries`.
    var routes: RouteCollection<ServiceRequestContext> {
        let routes = RouteCollection(context: ServiceRequestContext.self)
        routes.get(use: list)
        routes.post("{id}/replay", use: replay)
        return routes
    }

    struct DeliveryDTO: Encodable, Sendable {
        var id: String
        var eventName: String
        var status: String
        var testMode: Bool
        var attempts: Int
        var lastError: String?
        var receivedAt: String
        var nextAttemptAt: String
        var processedAt: String?

        init(_ summary: DeliverySummary) {
            id = summary.id.uuidString.lowercased()
            eventName = summary.eventName
            status = summary.status.rawValue
            testMode = summary.testMode
            attempts = summary.attempts
            lastError = summary.lastError
            receivedAt = WireCodec.formatDate(summary.receivedAt)
            nextAttemptAt = WireCodec.formatDate(summary.nextAttemptAt)
            processedAt = summary.processedAt.map(WireCodec.formatDate)
        }

        enum CodingKeys: String, CodingKey {
            case id, status, attempts
            case eventName = "event_name"
            case testMode = "test_mode"
            case lastError = "last_error"
            case receivedAt = "received_at"
            case nextAttemptAt = "next_attempt_at"
            case processedAt = "processed_at"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(eventName, forKey: .eventName)
            try container.encode(status, forKey: .status)
            try container.encode(testMode, forKey: .testMode)
            try container.encode(attempts, forKey: .attempts)
            try container.encode(lastError, forKey: .lastError)
            try container.encode(receivedAt, forKey: .receivedAt)
            try container.encode(nextAttemptAt, forKey: .nextAttemptAt)
            try container.encode(processedAt, forKey: .processedAt)
        }
    }

    typealias Page = CursorPage<DeliveryDTO>

    struct ReplayAnswer: Encodable, Sendable {
        var id: String
        var status: String
    }

    @Sendable func list(_ request: Request, context: ServiceRequestContext) async throws -> JSONResponse<Page> {
        _ = try CallerIdentity.requireAdmin(request, to: "inspect or replay webhook deliveries")
        let query = request.uri.queryParameters
        var status: DeliveryStatus?
        if let raw = query.get("status"), !raw.isEmpty {
            guard let value = DeliveryStatus(rawValue: raw) else {
                throw Problem.badRequest("status must be one of pending, processed, failed, ignored, dead.", type: "invalid-query")
            }
            status = value
        }
        var limit = 50
        if let raw = query.get("limit"), !raw.isEmpty {
            guard let value = Int(raw), (1...200).contains(value) else {
                throw Problem.badRequest("limit must be an integer from 1 to 200.", type: "invalid-query")
            }
            limit = value
        }
        var cursor: PageCursor?
        if let raw = query.get("cursor"), !raw.isEmpty {
            guard let value = PageCursor(token: raw) else {
                throw Problem.badRequest("The cursor is not one this API returned.", type: "invalid-cursor")
            }
            cursor = value
        }
        let found = try await repository.list(status: status, after: cursor, limit: limit + 1)
        let page = Array(found.prefix(limit))
        let next = found.count > limit ? page.last?.cursor.token : nil
        return JSONResponse(.ok, Page(items: page.map(DeliveryDTO.init), nextCursor: next))
    }

    @Sendable func replay(_ request: Request, context: ServiceRequestContext) async throws -> JSONResponse<ReplayAnswer> {
        let caller = try CallerIdentity.requireAdmin(request, to: "inspect or replay webhook deliveries")
        guard let raw = context.parameters.get("id"), let id = UUID(uuidString: raw) else { throw Problem.notFound("No such delivery.") }
        switch try await repository.replay(id, allowTestMode: acceptTestMode) {
        case .replayed:
            context.logger.notice("delivery replayed", metadata: ["delivery_id": "\(id)", "user_id": "\(caller.userID)"])
            return JSONResponse(.accepted, ReplayAnswer(id: id.uuidString.lowercased(), status: DeliveryStatus.pending.rawValue))
        case .notFound:
            throw Problem.notFound("No such delivery.")
        case .pending:
            throw Problem.conflict("The delivery is already pending; the processor will apply it.", type: "delivery-pending")
        case .testModeRefused:
            throw Problem.conflict("A test-mode delivery cannot be replayed while test mode is not accepted.", type: "test-mode-not-accepted")
        }
    }
}
