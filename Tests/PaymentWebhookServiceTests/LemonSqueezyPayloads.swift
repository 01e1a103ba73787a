/// Webhook bodies shaped like the ones Lemon Squeezy sends (trimmed of members this service ignores
/// only where they add nothing: the real ones carry urls, card details, emails and more).
enum LemonSqueezyPayloads {
    static func subscription(
        _ event: String, id: Int64, user: String?, variant: Int64 = 101, status: String = "active",
        renewsAt: String? = "2030-02-01T10:00:00.000000Z", endsAt: String? = nil, trialEndsAt: String? = nil,
        updatedAt: String, testMode: Bool = false
    ) -> String {
        """
        {
          "meta": {
            "test_mode": \(testMode),
            "event_name": "\(event)",
            "webhook_id": "8b5d2a38-1f5e-4c3a-9d7a-0f2c6f0a1e11"\(customData(user))
          },
          "data": {
            "type": "subscriptions",
            "id": "\(id)",
            "attributes": {
              "store_id": 12345,
              "customer_id": 67890,
              "order_id": \(id + 500000),
              "order_item_id": \(id + 600000),
              "product_id": 4321,
              "variant_id": \(variant),
              "product_name": "Pingvas Pro",
              "variant_name": "Monthly",
              "user_name": "Ada Lovelace",
              "user_email": "ada@example.com",
              "status": "\(status)",
              "status_formatted": "\(status)",
              "card_brand": "visa",
              "card_last_four": "4242",
              "pause": null,
              "cancelled": \(status == "cancelled"),
              "trial_ends_at": \(json(trialEndsAt)),
              "billing_anchor": 1,
              "first_subscription_item": {"id": \(id + 700000), "subscription_id": \(id), "price_id": 55, "quantity": 1},
              "urls": {"update_payment_method": "https://pingvas.lemonsqueezy.com/subscription/\(id)/payment-details"},
              "renews_at": \(json(renewsAt)),
              "ends_at": \(json(endsAt)),
              "created_at": "2030-01-01T10:00:00.000000Z",
              "updated_at": "\(updatedAt)",
              "test_mode": \(testMode)
            },
            "relationships": {"store": {"links": {"related": "https://api.lemonsqueezy.com/v1/subscriptions/\(id)/store"}}},
            "links": {"self": "https://api.lemonsqueezy.com/v1/subscriptions/\(id)"}
          }
        }
        """
    }

    static func invoice(
        _ event: String, id: Int64, subscription: Int64, user: String?, billingReason: String = "renewal", status: String = "paid",
        updatedAt: String = "2030-01-01T10:00:05.000000Z"
    ) -> String {
        """
        {
          "meta": {"test_mode": false, "event_name": "\(event)"\(customData(user))},
          "data": {
            "type": "subscription-invoices",
            "id": "\(id)",
            "attributes": {
              "store_id": 12345,
              "subscription_id": \(subscription),
              "customer_id": 67890,
              "user_name": "Ada Lovelace",
              "user_email": "ada@example.com",
              "billing_reason": "\(billingReason)",
              "card_brand": "visa",
              "card_last_four": "4242",
              "currency": "USD",
              "currency_rate": "1.00000000",
              "status": "\(status)",
              "status_formatted": "\(status)",
              "refunded": \(status == "refunded"),
              "refunded_at": null,
              "subtotal": 1500,
              "discount_total": 0,
              "tax": 0,
              "total": 1500,
              "subtotal_usd": 1500,
              "total_usd": 1500,
              "subtotal_formatted": "$15.00",
              "total_formatted": "$15.00",
              "urls": {"invoice_url": "https://app.lemonsqueezy.com/my-orders/x/subscription-invoice/\(id)"},
              "created_at": "\(updatedAt)",
              "updated_at": "\(updatedAt)",
              "test_mode": false
            },
            "links": {"self": "https://api.lemonsqueezy.com/v1/subscription-invoices/\(id)"}
          }
        }
        """
    }

    static func order(_ event: String = "order_created", id: Int64, user: String?, variant: Int64 = 201, status: String = "paid", testMode: Bool = false) -> String {
        """
        {
          "meta": {"test_mode": \(testMode), "event_name": "\(event)"\(customData(user))},
          "data": {
            "type": "orders",
            "id": "\(id)",
            "attributes": {
              "store_id": 12345,
              "customer_id": 67890,
              "identifier": "104e18a2-d755-4d4b-80c4-a6c1dcbe1c10",
              "order_number": \(id),
              "user_name": "Ada Lovelace",
              "user_email": "ada@example.com",
              "currency": "USD",
              "currency_rate": "1.0000",
              "subtotal": 999,
              "discount_total": 0,
              "tax": 0,
              "total": 999,
              "subtotal_usd": 999,
              "total_usd": 999,
              "tax_name": null,
              "tax_rate": "0.00",
              "status": "\(status)",
              "status_formatted": "\(status)",
              "refunded": \(status == "refunded"),
              "refunded_at": null,
              "subtotal_formatted": "$9.99",
              "total_formatted": "$9.99",
              "first_order_item": {
                "id": \(id + 100), "order_id": \(id), "product_id": 4322, "variant_id": \(variant),
                "product_name": "500 credits", "variant_name": "Default", "price": 999,
                "created_at": "2030-01-01T09:00:00.000000Z", "updated_at": "2030-01-01T09:00:00.000000Z", "test_mode": \(testMode)
              },
              "urls": {"receipt": "https://app.lemonsqueezy.com/my-orders/104e18a2/receipt"},
              "created_at": "2030-01-01T09:00:00.000000Z",
              "updated_at": "2030-01-01T09:00:00.000000Z",
              "test_mode": \(testMode)
            },
            "links": {"self": "https://api.lemonsqueezy.com/v1/orders/\(id)"}
          }
        }
        """
    }

    static func customData(_ user: String?) -> String {
        user.map { ",\n    \"custom_data\": {\"user_id\": \"\($0)\"}" } ?? ""
    }

    static func json(_ text: String?) -> String {
        text.map { "\"\($0)\"" } ?? "null"
    }
}
