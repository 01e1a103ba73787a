import Core
import Foundation
import Hummingbird
import ServiceKit

/// `GET /api/v1/billing/subscription`: the caller's subscription and the plan it gives now.
struct BillingController: Sendable {
    let subscriptions: any SubscriptionRepository

    /// Mounted at `/api/v1/billing/subscription`.
    var routes: RouteCollection<ServiceRequestContext> {
        let routes = RouteCollection(context: ServiceRequestContext.self)
        routes.get(use: show)
        return routes
    }

    struct SubscriptionDTO: Encodable, Sendable {
        var id: String
        var status: String
        var plan: String
        var variantID: Int64
        var renewsAt: String?
        var endsAt: String?
        var trialEndsAt: String?
        var updatedAt: String

        init(_ record: SubscriptionRecord) {
            id = String(record.id)
            status = record.status
            plan = record.plan.rawValue
            variantID = record.variantID
            renewsAt = record.renewsAt.map(WireCodec.formatDate)
            endsAt = record.endsAt.map(WireCodec.formatDate)
            trialEndsAt = record.trialEndsAt.map(WireCodec.formatDate)
            updatedAt = WireCodec.formatDate(record.updatedAt)
        }

        enum CodingKeys: String, CodingKey {
            case id, status, plan
            case variantID = "variant_id"
            case renewsAt = "renews_at"
            case endsAt = "ends_at"
            case trialEndsAt = "trial_ends_at"
            case updatedAt = "updated_at"
        }
    }

    struct Answer: Encodable, Sendable {
        /// The plan in effect now: the best any subscription gives, else free.
        var plan: String
        /// The subscription that gives it, else the most recently updated one; null without any.
        var subscription: SubscriptionDTO?
    }

    @Sendable func show(_ request: Request, context: ServiceRequestContext) async throws -> JSONResponse<Answer> {
        let caller = try CallerIdentity.require(request)
        let records = try await subscriptions.subscriptions(of: caller.userID)
        return JSONResponse(.ok, Self.answer(records, now: Date()))
    }

    /// `records` come most recently updated first.
    static func answer(_ records: [SubscriptionRecord], now: Date) -> Answer {
        let best = records.max { $0.effectivePlan(at: now) < $1.effectivePlan(at: now) }
        let plan = best?.effectivePlan(at: now) ?? .free
        let shown = plan == .free ? records.first : best
        return Answer(plan: plan.rawValue, subscription: shown.map(SubscriptionDTO.init))
    }
}
