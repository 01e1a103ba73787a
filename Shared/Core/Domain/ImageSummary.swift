package import Foundation

/// An image as the public API shows it (`GET /api/v1/images/{id}`), with snake_case keys.
package struct ImageSummary: Codable, Sendable, Equatable {
    package var id: ImageID
    package var generationID: JobID
    package var width: Int
    package var height: Int
    package var seed: Int64
    package var prompt: String
    package var model: String
    package var visibility: ImageVisibility
    package var createdAt: Date
    package var url: String

    package init(
        id: ImageID, generationID: JobID, width: Int, height: Int, seed: Int64, prompt: String, model: String,
        visibility: ImageVisibility, createdAt: Date, url: String
    ) {
        self.id = id
        self.generationID = generationID
        self.width = width
        self.height = height
        self.seed = seed
        self.prompt = prompt
        self.model = model
        self.visibility = visibility
        self.createdAt = createdAt
        self.url = url
    }

    enum CodingKeys: String, CodingKey {
        case id, width, height, seed, prompt, model, visibility, url
        case generationID = "generation_id"
        case createdAt = "created_at"
    }
}
