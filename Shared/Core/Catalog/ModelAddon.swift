/// A LoRA or ControlNet a model offers: the name requests use, a label for people, its file under the models folder.
package struct ModelAddon: Codable, Sendable, Equatable {
    package var name: String
    package var displayName: String?
    package var file: String

    package enum CodingKeys: String, CodingKey {
        case name, file
        case displayName = "display_name"
    }
}
