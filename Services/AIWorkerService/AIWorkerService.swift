import Hummingbird
import ServiceKit

@main
struct AIWorkerService {
    static func main() async throws {
        let configuration = ServiceApplication.loadConfiguration { AIWorkerConfiguration(reader: &$0) }
        ServiceLogging.bootstrap(serviceID: configuration.service.serviceID, level: configuration.service.logLevel)
        try await ServiceApplication.run(buildApplication(configuration: configuration))
    }
}
