import Hummingbird
import ServiceKit

@main
struct UserService {
    static func main() async throws {
        let configuration = ServiceApplication.loadConfiguration { UserConfiguration(reader: &$0) }
        ServiceLogging.bootstrap(serviceID: configuration.service.serviceID, level: configuration.service.logLevel)
        try await ServiceApplication.run(await buildApplication(configuration: configuration))
    }
}
