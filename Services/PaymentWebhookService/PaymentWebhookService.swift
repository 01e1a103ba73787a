import Hummingbird
import ServiceKit

@main
struct PaymentWebhookService {
    static func main() async throws {
        let configuration = ServiceApplication.loadConfiguration { PaymentWebhookConfiguration(reader: &$0) }
        ServiceLogging.bootstrap(serviceID: configuration.service.serviceID, level: configuration.service.logLevel)
        try await ServiceApplication.run(buildApplication(configuration: configuration))
    }
}
