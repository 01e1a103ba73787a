/// A LoRA or ControlNet a model offers: the name requests use, a label for people, its file under the models folder.
struct ModelAddon: Codable, Sendable, Equatable {
    var name: String
    var displayName: String?
    var file: String

    enum CodingKeys: String, CodingKey {
        case name, file
        case displayName = "display_name"
    }
}
