import ServiceKit

/// Everything the payment-webhook service reads from the environment.
struct PaymentWebhookConfiguration: Sendable {
    var service: ServiceConfiguration

    init(reader: inout ConfigurationReader) {
        service = .read(serviceID: "payment-webhook", defaultPort: 8083, needsDatabase: true, needsRedis: true, from: &reader)
    }
}
