import ServiceKit

@main
struct PaymentWebhookService {
    static func main() async {
        await ServiceApplication.main(PaymentWebhookConfiguration.self) { try await buildApplication(configuration: $0, logger: $1) }
    }
}
