import Hummingbird
import ServiceKit

@main
struct GatewayService {
    static func main() async throws {
        let configuration = ServiceApplication.loadConfiguration { GatewayConfiguration(reader: &$0) }
        ServiceLogging.bootstrap(serviceID: configuration.service.serviceID, level: configuration.service.logLevel)
        try await ServiceApplication.run(await buildApplication(configuration: configuration))
    }
}
