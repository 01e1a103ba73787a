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

    /// The two answers a stored delivery gets (`{"duplicate":…,"received":true}`), encoded once.
    static let receivedNew = Array(#"{"duplicate":false,"received":true}"#.utf8)
    static let receivedDuplicate = Array(#"{"duplicate":true,"received":true}"#.utf8)

    @Sendable func receive(_ request: Request, context: ServiceRequestContext) async throws -> Response {
        let buffer = try await request.body.collect(upTo: maxBodyBytes)
        let body = Array(buffer.readableBytesView)
        guard signature.isValid(request.headers[Self.signatureHeader], body: body) else {
            context.logger.notice("webhook signature rejected", metadata: ["bytes": "\(body.count)"])
            throw Problem(.unauthorized, type: "invalid-signature", title: "Invalid signature", detail: "The webhook signature does not match.")
        }
        let delivery = classify(body, headerEventName: request.headers[Self.eventNameHeader])
        let inserted = try await repository.store(delivery)
        context.logger.info("webhook received", metadata: {
            var metadata: Logger.Metadata = ["event_name": "\(delivery.eventName)", "duplicate": "\(!inserted)"]
            if inserted {
                metadata["delivery_id"] = "\(delivery.id)"
                metadata["delivery_status"] = "\(delivery.status.rawValue)"
            }
            return metadata
        }())
        return Response.json(.ok, bytes: inserted ? Self.receivedNew : Self.receivedDuplicate)
    }

    /// The row to store for a verified body: pending, ignored (test mode) or dead (unreadable).
    ///
    /// Only `meta.event_name` and `meta.test_mode` are read: by `EnvelopeScanner` in one pass over
    /// the bytes, or by `JSONDecoder` for the bodies the scanner leaves to it (not JSON, unusual
    /// escapes or nesting); both give the same answer where the scanner answers at all.
    func classify(_ body: [UInt8], headerEventName: String?) -> NewDelivery {
        var delivery = NewDelivery(
            id: Self.randomUUID(), dedupeKey: SHA256Digest.hex(body), eventName: Self.clean(headerEventName) ?? "unknown", testMode: false,
            body: body, status: .pending, lastError: nil
        )
        let envelope: EnvelopeScanner.Envelope
        if let scanned = EnvelopeScanner.scan(body) {
            envelope = scanned
        } else if let decoded = try? JSONDecoder().decode(LemonSqueezyEnvelope.self, from: Data(body)) {
            envelope = EnvelopeScanner.Envelope(eventName: decoded.meta.eventName, testMode: decoded.meta.testMode)
        } else {
            delivery.status = .dead
            delivery.lastError = "body is not a JSON object with meta.event_name"
            return delivery
        }
        delivery.eventName = Self.clean(envelope.eventName) ?? "unknown"
        delivery.testMode = envelope.testMode ?? false
        if LemonSqueezyEvent.Name(rawValue: envelope.eventName) == nil {
            delivery.status = .dead
            delivery.lastError = "unknown event"
        } else if delivery.testMode && !acceptTestMode {
            delivery.status = .ignored
            delivery.lastError = "test mode deliveries are not accepted"
        }
        return delivery
    }

    /// A random (version 4) UUID from the system generator: `UUID()` opens and reads
    /// `/dev/urandom` on Linux each time, three system calls per delivery.
    static func randomUUID() -> UUID {
        var generator = SystemRandomNumberGenerator()
        var uuid = unsafeBitCast((generator.next() as UInt64, generator.next() as UInt64), to: uuid_t.self)
        uuid.6 = (uuid.6 & 0x0F) | 0x40
        uuid.8 = (uuid.8 & 0x3F) | 0x80
        return UUID(uuid: uuid)
    }

    /// An event name fit to store and log: short, of the characters event names use.
    static func clean(_ name: String?) -> String? {
        guard let name, (1...64).contains(name.count),
            name.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" })
        else { return nil }
        return name
    }
}
