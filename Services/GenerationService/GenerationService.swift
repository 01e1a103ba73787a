import ServiceKit

@main
struct GenerationService {
    static func main() async {
        await ServiceApplication.main(GenerationConfiguration.self) { try await buildApplication(configuration: $0, logger: $1) }
    }
}
