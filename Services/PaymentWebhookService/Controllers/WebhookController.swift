import Foundation
import HTTPTypes
import Hummingbird
import Logging
import PingvasCrypto
import ServiceKit

/// `POST /webhooks/lemonsqueezy`: verifies, stores once, answers fast; processing happens later.
///
/// The signature is checked on the raw bytes before anything is parsed; a delivery that fails it
/// stores nothing. A verified body that can never be processed (not JSON, unknown event) is kept
/// as `dead` and answered 200, so Lemon Squeezy does not retry it forever. Bodies and signatures
/// are never logged.
struct WebhookController: Sendable {
    let repository: any DeliveryRepository
    let signature: WebhookSignature
    let acceptTestMode: Bool
    let maxBodyBytes: Int

    static let signatureHeader = HTTPField.Name("X-Signature")!
    static let eventNameHeader = HTTPField.Name("X-Event-Name")!

    /// Mounted at `/webhooks/lemonsqueezy`.
    var routes: RouteCollection<ServiceRequestContext> {
        let routes = RouteCollection(context: ServiceRequestContext.self)
        routes.post(use: receive)
        return routes
    }

    struct Receipt: Encodable, Sendable {
        var received: Bool
        var duplicate: Bool
    }

    @Sendable func receive(_ request: Request, context: ServiceRequestContext) async throws -> JSONResponse<Receipt> {
        let buffer = try await request.body.collect(upTo: maxBodyBytes)
        let body = Array(buffer.readableBytesView)
        guard signature.isValid(request.headers[Self.signatureHeader], body: body) else {
            context.logger.notice("webhook signature rejected", metadata: ["bytes": "\(body.count)"])
            throw Problem(.unauthorized, type: "invalid-signature", title: "Invalid signature", detail: "The webhook signature does not match.")
        }
        let delivery = classify(body, headerEventName: request.headers[Self.eventNameHeader])
        let inserted = try await repository.store(delivery)
        var metadata: Logger.Metadata = ["event_name": "\(delivery.eventName)", "duplicate": "\(!inserted)"]
        if inserted {
            metadata["delivery_id"] = "\(delivery.id)"
            metadata["delivery_status"] = "\(delivery.status.rawValue)"
        }
        context.logger.info("webhook received", metadata: metadata)
        return JSONResponse(.ok, Receipt(received: true, duplicate: !inserted))
    }

    /// The row to store for a verified body: pending, ignored (test mode) or dead (unreadable).
    func classify(_ body: [UInt8], headerEventName: String?) -> NewDelivery {
        var delivery = NewDelivery(
            id: UUID(), dedupeKey: SHA256Digest.hex(body), eventName: Self.clean(headerEventName) ?? "unknown", testMode: false,
            body: body, status: .pending, lastError: nil
        )
        guard let envelope = try? JSONDecoder().decode(LemonSqueezyEnvelope.self, from: Data(body)) else {
            delivery.status = .dead
            delivery.lastError = "body is not a JSON object with meta.event_name"
            return delivery
        }
        delivery.eventName = Self.clean(envelope.meta.eventName) ?? "unknown"
        delivery.testMode = envelope.meta.testMode ?? false
        if LemonSqueezyEvent.Name(rawValue: envelope.meta.eventName) == nil {
            delivery.status = .dead
            delivery.lastError = "unknown event"
        } else if delivery.testMode && !acceptTestMode {
            delivery.status = .ignored
            delivery.lastError = "test mode deliveries are not accepted"
        }
        return delivery
    }

    /// An event name fit to store and log: short, of the characters event names use.
    static func clean(_ name: String?) -> String? {
        guard let name, (1...64).contains(name.count),
            name.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" })
        else { return nil }
        return name
    }
}
