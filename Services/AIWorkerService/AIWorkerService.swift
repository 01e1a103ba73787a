import Foundation
import Hummingbird
import ServiceKit

@main
struct AIWorkerService {
    static func main() async throws {
        let arguments = CommandLine.arguments.dropFirst()
        if arguments.first == "generate" {
            exit(await GenerateCommand.main(Array(arguments.dropFirst())))
        }
        let configuration = ServiceApplication.loadConfiguration { AIWorkerConfiguration(reader: &$0) }
        ServiceLogging.bootstrap(serviceID: configuration.service.serviceID, level: configuration.service.logLevel)
        try await ServiceApplication.run(Self.build(configuration))
    }

    /// The application, or exit 78 (EX_CONFIG) when the model catalog cannot be read.
    static func build(_ configuration: AIWorkerConfiguration) -> some ApplicationProtocol {
        do {
            return try buildApplication(configuration: configuration)
        } catch {
            FileHandle.standardError.write(Data("ai-worker: cannot read the model catalog: \(error)\n".utf8))
            exit(78)
        }
    }
}
