import ServiceKit

@main
struct ModelRouterService {
    static func main() async {
        await ServiceApplication.main(ModelRouterConfiguration.self) { try await buildApplication(configuration: $0, logger: $1) }
    }
}
