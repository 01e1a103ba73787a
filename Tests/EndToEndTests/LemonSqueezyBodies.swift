/// Webhook bodies shaped like Lemon Squeezy's (the members this backend reads, with realistic neighbours).
enum LemonSqueezyBodies {
    static func order(_ event: String, id: Int, user: String, status: String) -> String {
        """
        {"meta": {"test_mode": false, "event_name": "\(event)", "custom_data": {"user_id": "\(user)"}},
         "data": {"type": "orders", "id": "\(id)", "attributes": {
           "store_id": 12345, "customer_id": 67890, "identifier": "104e18a2-d755-4d4b-80c4-a6c1dcbe1c10", "order_number": \(id),
           "user_name": "Ada Lovelace", "user_email": "ada@example.com", "currency": "USD", "subtotal": 999, "total": 999,
           "status": "\(status)", "refunded": \(status == "refunded"), "refunded_at": null,
           "first_order_item": {"id": \(id + 100), "order_id": \(id), "product_id": 4322, "variant_id": 201, "product_name": "500 credits", "price": 999},
           "created_at": "2030-01-01T09:00:00.000000Z", "updated_at": "2030-01-01T09:00:00.000000Z", "test_mode": false},
         "links": {"self": "https://api.lemonsqueezy.com/v1/orders/\(id)"}}}
        """
    }

    static func subscription(_ event: String, id: Int, user: String?, status: String, updatedAt: String, endsAt: String? = nil) -> String {
        let custom = user.map { #", "custom_data": {"user_id": "\#($0)"}"# } ?? ""
        let ends = endsAt.map { "\"\($0)\"" } ?? "null"
        return """
            {"meta": {"test_mode": false, "event_name": "\(event)"\(custom)},
             "data": {"type": "subscriptions", "id": "\(id)", "attributes": {
               "store_id": 12345, "customer_id": 67890, "order_id": \(id + 500000), "product_id": 4321, "variant_id": 101,
               "product_name": "Pingvas Pro", "variant_name": "Monthly", "user_email": "ada@example.com", "status": "\(status)",
               "cancelled": \(status == "cancelled"), "trial_ends_at": null, "renews_at": "2030-02-01T10:00:00.000000Z", "ends_at": \(ends),
               "created_at": "2030-01-01T10:00:00.000000Z", "updated_at": "\(updatedAt)", "test_mode": false}}}
            """
    }

    static func invoice(
        _ event: String = "subscription_payment_success", id: Int, subscription: Int, status: String = "paid",
        billingReason: String = "initial", updatedAt: String = "2030-01-01T10:00:05.000000Z"
    ) -> String {
        """
        {"meta": {"test_mode": false, "event_name": "\(event)"},
         "data": {"type": "subscription-invoices", "id": "\(id)", "attributes": {
           "store_id": 12345, "subscription_id": \(subscription), "customer_id": 67890, "billing_reason": "\(billingReason)",
           "currency": "USD", "status": "\(status)", "refunded": \(status == "refunded"), "subtotal": 1500, "total": 1500,
           "created_at": "2030-01-01T10:00:05.000000Z", "updated_at": "\(updatedAt)", "test_mode": false}}}
        """
    }
}
