import ServiceKit

@main
struct UserService {
    static func main() async {
        await ServiceApplication.main(UserConfiguration.self) { try await buildApplication(configuration: $0, logger: $1) }
    }
}
