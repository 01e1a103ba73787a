import Core
import Foundation
import Logging
import PostgresClient

/// Applies one stored Lemon Squeezy event inside the processor's transaction.
///
/// Subscription state follows the event's `updated_at`, so the order of arrival does not matter;
/// a change of the user's effective plan writes a `plan.changed` outbox row in the same
/// transaction. Credits go through the user service's grants, idempotent by reference
/// (`ls-invoice:<id>`, `ls-order:<id>`), so applying an event twice (a retry after a crash) grants
/// once; refunds take back what the order or invoice granted (`ls-refund:order:<id>`,
/// `ls-refund:invoice:<id>`), also once.
struct EventApplier: Sendable {
    let variants: VariantCatalog
    let credits: any UserCredits
    let plans: PlanAnnouncer
    let logger: Logger

    /// Applies `body`; returns a short note for the delivery row, or throws `ProcessingError`.
    func apply(_ body: [UInt8], on connection: PostgresConnection) async throws -> String? {
        let event: LemonSqueezyEvent
        do {
            event = try JSONDecoder().decode(LemonSqueezyEvent.self, from: Data(body))
        } catch {
            throw ProcessingError.permanent("body does not have the shape of a Lemon Squeezy event")
        }
        guard let name = event.name else { throw ProcessingError.permanent("unknown event") }
        switch name {
        case .subscriptionCreated, .subscriptionUpdated, .subscriptionCancelled, .subscriptionResumed, .subscriptionExpired,
            .subscriptionPaused, .subscriptionUnpaused:
            return try await applySubscription(event, on: connection)
        case .subscriptionPaymentSuccess:
            return try await applyInvoicePaid(event, on: connection)
        case .subscriptionPaymentFailed, .subscriptionPaymentRecovered:
            // The status change (past_due, active) arrives as subscription_updated; nothing to do here.
            return "no effect: status follows subscription_updated"
        case .orderCreated:
            return try await applyOrder(event, on: connection)
        case .orderRefunded:
            return try await applyOrderRefund(event, on: connection)
        case .subscriptionPaymentRefunded:
            return try await applyInvoiceRefund(event, on: connection)
        }
    }

    func applySubscription(_ event: LemonSqueezyEvent, on connection: PostgresConnection) async throws -> String? {
        let data = event.data
        let attributes = data.attributes
        guard data.type == "subscriptions", let id = data.id.int64 else { throw ProcessingError.permanent("not a subscription") }
        guard let variantID = attributes.variantID?.int64, let status = attributes.status, let updatedAt = attributes.updatedAt else {
            throw ProcessingError.permanent("subscription without variant_id, status or updated_at")
        }
        guard let plan = variants[variantID]?.plan else {
            throw ProcessingError.retry("variant \(variantID) is not a plan in PINGVAS_LEMONSQUEEZY_VARIANTS")
        }
        let owner: UserID
        if let custom = event.userID {
            guard let user = UserID(custom) else { throw ProcessingError.permanent("custom_data.user_id is not a user id") }
            owner = user
        } else if let existing = try await PostgresSubscriptionRepository.find(id, on: connection) {
            owner = existing.userID
        } else {
            throw ProcessingError.retry("subscription \(id) has no custom_data.user_id and is not known yet")
        }
        let state = SubscriptionState(
            id: id, userID: owner, variantID: variantID, plan: plan, status: status, renewsAt: attributes.renewsAt,
            endsAt: attributes.endsAt, trialEndsAt: attributes.trialEndsAt, updatedAt: updatedAt
        )
        let applied = try await PostgresSubscriptionRepository.apply(state, on: connection)
        logger.info(
            "subscription event", metadata: ["user_id": "\(owner)", "subscription_id": "\(id)", "status": "\(status)", "applied": "\(applied)"]
        )
        guard applied else { return "older than the stored state; not applied" }
        if try await PostgresCancellationRepository.markIfOwnerDeleted(id, on: connection) {
            logger.notice("subscription of a deleted account; to be cancelled", metadata: ["user_id": "\(owner)", "subscription_id": "\(id)"])
        }
        if let plan = try await plans.announce(user: owner, source: "ls-subscription:\(id)", on: connection) {
            logger.info("plan changed", metadata: ["user_id": "\(owner)", "plan": "\(plan.rawValue)", "subscription_id": "\(id)"])
        }
        return nil
    }

    func applyInvoicePaid(_ event: LemonSqueezyEvent, on connection: PostgresConnection) async throws -> String? {
        let data = event.data
        let attributes = data.attributes
        guard data.type == "subscription-invoices", let invoiceID = data.id.int64, let subscriptionID = attributes.subscriptionID?.int64 else {
            throw ProcessingError.permanent("not a subscription invoice")
        }
        guard attributes.status == "paid" else { return "invoice not paid; nothing granted" }
        guard let subscription = try await PostgresSubscriptionRepository.find(subscriptionID, on: connection) else {
            throw ProcessingError.retry("subscription \(subscriptionID) of invoice \(invoiceID) is not known yet")
        }
        var monthly = variants[subscription.variantID]?.monthlyCredits ?? 0
        var note: String?
        // A proration invoice of a plan change is not a new month of credits.
        if let reason = attributes.billingReason, reason != "initial" && reason != "renewal" {
            monthly = 0
            note = "billing_reason \(reason); nothing granted"
        } else if monthly <= 0 {
            monthly = 0
            note = "plan grants no monthly credits"
        }
        // Recorded even when nothing is granted, so a refund of this invoice knows there is nothing to take back.
        try await PostgresInvoiceRepository.record(
            invoice: invoiceID, subscription: subscriptionID, user: subscription.userID, credits: monthly, on: connection
        )
        guard monthly > 0 else { return note }
        try await credits.grant(
            user: subscription.userID, amount: monthly, reason: "\(subscription.plan.rawValue) plan monthly credits",
            reference: "ls-invoice:\(invoiceID)"
        )
        logger.info("monthly credits granted", metadata: ["user_id": "\(subscription.userID)", "invoice_id": "\(invoiceID)", "amount": "\(monthly)"])
        return nil
    }

    func applyOrder(_ event: LemonSqueezyEvent, on connection: PostgresConnection) async throws -> String? {
        let data = event.data
        let attributes = data.attributes
        guard data.type == "orders", let orderID = data.id.int64, let status = attributes.status else {
            throw ProcessingError.permanent("not an order")
        }
        let variantID = attributes.firstOrderItem?.variantID?.int64
        let pack = variants[variantID]?.credits ?? 0
        let user = event.userID.flatMap(UserID.init)
        if pack > 0 && status == "paid" && user == nil {
            throw ProcessingError.permanent("credit-pack order \(orderID) carries no valid custom_data.user_id")
        }
        let order = OrderRecord(
            id: orderID, userID: user, variantID: variantID, identifier: attributes.identifier, status: status, total: attributes.total,
            credits: status == "paid" ? pack : 0, updatedAt: attributes.updatedAt
        )
        _ = try await PostgresOrderRepository.record(order, on: connection)
        guard pack > 0, status == "paid", let user else { return "no credits to grant" }
        try await credits.grant(user: user, amount: pack, reason: "credit pack", reference: "ls-order:\(orderID)")
        logger.info("credit pack granted", metadata: ["user_id": "\(user)", "order_id": "\(orderID)", "amount": "\(pack)"])
        return nil
    }
}
