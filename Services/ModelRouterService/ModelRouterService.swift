import Foundation
import Hummingbird
import ServiceKit

@main
struct ModelRouterService {
    static func main() async throws {
        let configuration = ServiceApplication.loadConfiguration { ModelRouterConfiguration(reader: &$0) }
        ServiceLogging.bootstrap(serviceID: configuration.service.serviceID, level: configuration.service.logLevel)
        try await ServiceApplication.run(Self.build(configuration))
    }

    /// The application, or exit 78 (EX_CONFIG, like a missing setting) with the catalog's problems.
    static func build(_ configuration: ModelRouterConfiguration) -> some ApplicationProtocol {
        do {
            return try buildApplication(configuration: configuration)
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            exit(78)
        }
    }
}
