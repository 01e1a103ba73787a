import Hummingbird
import ServiceKit

@main
struct GalleryService {
    static func main() async throws {
        let configuration = ServiceApplication.loadConfiguration { GalleryConfiguration(reader: &$0) }
        ServiceLogging.bootstrap(serviceID: configuration.service.serviceID, level: configuration.service.logLevel)
        try await ServiceApplication.run(buildApplication(configuration: configuration))
    }
}
