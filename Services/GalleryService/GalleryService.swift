import ServiceKit

@main
struct GalleryService {
    static func main() async {
        await ServiceApplication.main(GalleryConfiguration.self) { try await buildApplication(configuration: $0, logger: $1) }
    }
}
