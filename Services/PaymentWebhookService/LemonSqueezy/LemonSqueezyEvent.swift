import Foundation

/// One Lemon Squeezy webhook body: `{meta: {event_name, test_mode, custom_data}, data: {type, id, attributes}}`.
///
/// Only the members this service uses are read; everything else in the body is ignored.
struct LemonSqueezyEvent: Sendable, Decodable {
    enum Name: String, Sendable, CaseIterable {
        case orderCreated = "order_created"
        case orderRefunded = "order_refunded"
        case subscriptionCreated = "subscription_created"
        case subscriptionUpdated = "subscription_updated"
        case subscriptionCancelled = "subscription_cancelled"
        case subscriptionResumed = "subscription_resumed"
        case subscriptionExpired = "subscription_expired"
        case subscriptionPaused = "subscription_paused"
        case subscriptionUnpaused = "subscription_unpaused"
        case subscriptionPaymentSuccess = "subscription_payment_success"
        case subscriptionPaymentFailed = "subscription_payment_failed"
        case subscriptionPaymentRecovered = "subscription_payment_recovered"
        case subscriptionPaymentRefunded = "subscription_payment_refunded"
    }

    struct Meta: Sendable, Decodable {
        var eventName: String
        var testMode: Bool?
        var customData: CustomData?

        enum CodingKeys: String, CodingKey {
            case eventName = "event_name"
            case testMode = "test_mode"
            case customData = "custom_data"
        }
    }

    struct CustomData: Sendable, Decodable {
        var userID: String?
        enum CodingKeys: String, CodingKey { case userID = "user_id" }
    }

    struct Resource: Sendable, Decodable {
        var type: String
        var id: FlexibleID
        var attributes: Attributes
    }

    /// The attributes of subscriptions, orders and subscription invoices that matter here.
    struct Attributes: Sendable, Decodable {
        var status: String?
        var variantID: FlexibleID?
        var subscriptionID: FlexibleID?
        var firstOrderItem: OrderItem?
        var billingReason: String?
        var identifier: String?
        var total: Int64?
        var renewsAt: String?
        var endsAt: String?
        var trialEndsAt: String?
        var createdAt: String?
        var updatedAt: String?

        enum CodingKeys: String, CodingKey {
            case status, identifier, total
            case variantID = "variant_id"
            case subscriptionID = "subscription_id"
            case firstOrderItem = "first_order_item"
            case billingReason = "billing_reason"
            case renewsAt = "renews_at"
            case endsAt = "ends_at"
            case trialEndsAt = "trial_ends_at"
            case createdAt = "created_at"
            case updatedAt = "updated_at"
        }
    }

    struct OrderItem: Sendable, Decodable {
        var variantID: FlexibleID?
        enum CodingKeys: String, CodingKey { case variantID = "variant_id" }
    }

    var meta: Meta
    var data: Resource

    var name: Name? { Name(rawValue: meta.eventName) }
    var testMode: Bool { meta.testMode ?? false }
    var userID: String? { meta.customData?.userID }
}

/// The part of a body the intake reads before storing it: event name and test mode.
struct LemonSqueezyEnvelope: Sendable, Decodable {
    var meta: LemonSqueezyEvent.Meta
}

/// A Lemon Squeezy id, sent as a JSON number or a string; kept as its decimal text.
struct FlexibleID: Sendable, Decodable, Equatable, CustomStringConvertible {
    var description: String

    init(_ text: String) {
        description = text
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Int64.self) {
            description = String(number)
        } else {
            let text = try container.decode(String.self)
            guard !text.isEmpty, text.count <= 64 else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "empty or overlong id")
            }
            description = text
        }
    }

    var int64: Int64? { Int64(description) }
}
