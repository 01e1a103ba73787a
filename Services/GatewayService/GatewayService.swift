import ServiceKit

@main
struct GatewayService {
    static func main() async {
        await ServiceApplication.main(GatewayConfiguration.self) { try await buildApplication(configuration: $0, logger: $1) }
    }
}
