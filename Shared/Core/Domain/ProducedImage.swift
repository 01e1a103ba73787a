/// One image a worker produced and stored: where it is and how it was made.
package struct ProducedImage: Codable, Sendable, Equatable {
    package var imageID: ImageID
    /// The object-storage key the PNG was written under.
    package var storageKey: String
    package var width: Int
    package var height: Int
    /// The seed actually used (the request's, or the one the worker picked).
    package var seed: Int64
    package var contentType: String
    /// Size of the stored object in bytes.
    package var bytes: Int
    /// Which engine made it: `"stable-diffusion"`, or `"preview"` for procedural stand-ins that
    /// must never be presented as AI output.
    package var engine: String
    /// The key of a smaller copy (longest side 256 px, PNG); nil from workers that made none.
    package var thumbnailKey: String?

    package init(
        imageID: ImageID, storageKey: String, width: Int, height: Int, seed: Int64, contentType: String = "image/png",
        bytes: Int, engine: String, thumbnailKey: String? = nil
    ) {
        self.imageID = imageID
        self.storageKey = storageKey
        self.width = width
        self.height = height
        self.seed = seed
        self.contentType = contentType
        self.bytes = bytes
        self.engine = engine
        self.thumbnailKey = thumbnailKey
    }

    enum CodingKeys: String, CodingKey {
        case width, height, seed, bytes, engine
        case imageID = "image_id"
        case storageKey = "storage_key"
        case contentType = "content_type"
        case thumbnailKey = "thumbnail_key"
    }
}
