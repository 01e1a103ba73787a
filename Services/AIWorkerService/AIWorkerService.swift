import ArgumentParser
import Foundation
import ServiceKit

@main
struct AIWorkerService {
    static func main() async {
        let arguments = CommandLine.arguments.dropFirst()
        if arguments.first == "generate" {
            await GenerateCommand.main(Array(arguments.dropFirst()))  // exits with the command's status on failure
            exit(0)
        }
        if arguments.first == "engine-host" {
            await EngineHostCommand.main(Array(arguments.dropFirst()))
            exit(0)
        }
        if arguments.first == "bench-scheduler" {
            await BenchSchedulerCommand.main(Array(arguments.dropFirst()))
            exit(0)
        }
        await ServiceApplication.main(AIWorkerConfiguration.self) { try await buildApplication(configuration: $0, logger: $1) }
    }
}
