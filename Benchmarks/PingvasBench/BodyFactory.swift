import Foundation
import PingvasCrypto

/// Distinct, signed `order_created` bodies shaped like Lemon Squeezy's (about 1.3 KB each).
struct BodyFactory: Sendable {
    let secret: [UInt8]
    /// Keeps order ids of separate runs against one database apart.
    let runTag: Int

    init(secret: String, runTag: Int) {
        self.secret = Array(secret.utf8)
        self.runTag = runTag
    }

    /// Body and `X-Signature` for request `sequence` of `worker`.
    func make(worker: Int, sequence: Int) -> (body: [UInt8], signature: String) {
        let id = (runTag % 100_000) * 10_000_000_000 + worker * 100_000_000 + sequence
        let body = Array(
            """
            {"meta": {"test_mode": false, "event_name": "order_created", "webhook_id": "8b5d2a38-1f5e-4c3a-9d7a-0f2c6f0a1e11",
              "custom_data": {"user_id": "0b0f2c1e-8d4a-4d2e-9a51-3f6d7c8e9a10"}},
             "data": {"type": "orders", "id": "\(id)", "attributes": {
               "store_id": 12345, "customer_id": 67890, "identifier": "104e18a2-d755-4d4b-80c4-a6c1dcbe1c10", "order_number": \(id),
               "user_name": "Ada Lovelace", "user_email": "ada@example.com", "currency": "USD", "currency_rate": "1.0000",
               "subtotal": 999, "discount_total": 0, "tax": 0, "total": 999, "subtotal_usd": 999, "total_usd": 999,
               "tax_name": null, "tax_rate": "0.00", "status": "paid", "status_formatted": "Paid", "refunded": false, "refunded_at": null,
               "subtotal_formatted": "$9.99", "total_formatted": "$9.99",
               "first_order_item": {"id": \(id), "order_id": \(id), "product_id": 4322, "variant_id": 201, "product_name": "500 credits",
                 "variant_name": "Default", "price": 999, "created_at": "2030-01-01T09:00:00.000000Z", "updated_at": "2030-01-01T09:00:00.000000Z"},
               "urls": {"receipt": "https://app.lemonsqueezy.com/my-orders/104e18a2-d755-4d4b-80c4-a6c1dcbe1c10?signature=0a1b2c3d"},
               "created_at": "2030-01-01T09:00:00.000000Z", "updated_at": "2030-01-01T09:00:00.000000Z", "test_mode": false},
             "links": {"self": "https://api.lemonsqueezy.com/v1/orders/\(id)"}}}
            """.utf8
        )
        return (body, HMACSHA256.hex(key: secret, message: body))
    }

    /// Bodies built and signed per second by one thread, measured for 0.3 s.
    func selfCheck() -> Double {
        let start = ContinuousClock.now
        var count = 0
        while ContinuousClock.now - start < .milliseconds(300) {
            _ = make(worker: 99, sequence: count)
            count += 1
        }
        return Double(count) / Self.seconds(ContinuousClock.now - start)
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
