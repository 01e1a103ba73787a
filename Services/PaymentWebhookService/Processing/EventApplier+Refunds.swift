import Core
import Logging
import PostgresClient

/// `order_refunded` and `subscription_payment_refunded`: take back what the order or invoice granted.
///
/// The order or invoice row is locked first, so two refund deliveries of one payment run one after
/// the other; the user service's debit is idempotent by reference as well. A refund whose payment
/// has not been applied yet (its delivery is still pending, or its grant is not committed) finds
/// no row and is retried with backoff: it never marks itself done having taken nothing.
extension EventApplier {
    func applyOrderRefund(_ event: LemonSqueezyEvent, on connection: PostgresConnection) async throws -> String? {
        let data = event.data
        guard data.type == "orders", let orderID = data.id.int64 else { throw ProcessingError.permanent("not an order") }
        try Self.requireFullRefund(data.attributes.status, of: "order \(orderID)")
        guard let granted = try await PostgresOrderRepository.lockForRefund(orderID, on: connection) else {
            throw ProcessingError.retry("order \(orderID) is not applied yet; its refund waits for it")
        }
        let note = try await takeBack(granted, reference: "ls-refund:order:\(orderID)", reason: "credit pack refunded", what: "order \(orderID)")
        try await PostgresOrderRepository.markRefunded(orderID, status: "refunded", on: connection)
        return note
    }

    func applyInvoiceRefund(_ event: LemonSqueezyEvent, on connection: PostgresConnection) async throws -> String? {
        let data = event.data
        guard data.type == "subscription-invoices", let invoiceID = data.id.int64 else {
            throw ProcessingError.permanent("not a subscription invoice")
        }
        try Self.requireFullRefund(data.attributes.status, of: "invoice \(invoiceID)")
        guard let granted = try await PostgresInvoiceRepository.lockForRefund(invoiceID, on: connection) else {
            throw ProcessingError.retry("invoice \(invoiceID) is not applied yet; its refund waits for it")
        }
        let note = try await takeBack(
            granted, reference: "ls-refund:invoice:\(invoiceID)", reason: "subscription payment refunded", what: "invoice \(invoiceID)"
        )
        try await PostgresInvoiceRepository.markRefunded(invoiceID, on: connection)
        return note
    }

    /// Debits what `granted` gave, unless it gave nothing or was taken back already; returns the note.
    private func takeBack(_ granted: GrantedCredits, reference: String, reason: String, what: String) async throws -> String? {
        guard granted.credits > 0, let user = granted.userID else { return "\(what) granted no credits; nothing taken back" }
        guard !granted.refunded else { return "credits of \(what) were already taken back" }
        try await credits.debit(user: user, amount: granted.credits, reason: reason, reference: reference)
        logger.notice("credits taken back", metadata: ["user_id": "\(user)", "reference": "\(reference)", "amount": "\(granted.credits)"])
        return nil
    }

    /// Only a full refund takes credits back; a partial one is kept as `failed` for an admin to decide.
    static func requireFullRefund(_ status: String?, of what: String) throws {
        switch status {
        case "refunded": return
        case "partial_refund": throw ProcessingError.permanent("\(what) was refunded in part; credits are only taken back for full refunds")
        default: throw ProcessingError.permanent("\(what) is not refunded (status \(status ?? "missing"))")
        }
    }
}
