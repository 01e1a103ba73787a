import Foundation
import Hummingbird
import ServiceKit

@main
struct ModelRouterService {
    static func main() async throws {
        let configuration = ServiceApplication.loadConfiguration { ModelRouterConfiguration(reader: &$0) }
        ServiceLogging.bootstrap(serviceID: configuration.service.serviceID, level: configuration.service.logLevel)
        let application: some ApplicationProtocol
        do {
            application = try buildApplication(configuration: configuration)
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            exit(78)  // EX_CONFIG, like a missing setting
        }
        try await ServiceApplication.run(application)
    }
}
