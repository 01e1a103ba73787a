import Core
import Foundation
import PostgresClient
import ServiceKit

/// `ImageRepository` on the gallery's own PostgreSQL schema.
struct PostgresImageRepository: ImageRepository {
    let pool: PostgresPool

    static let columns = """
        id::text, generation_id::text, user_id::text, width, height, seed, prompt, negative_prompt, model, engine,
        storage_key, content_type, bytes, visibility, title, array_to_json(tags)::text AS tags, created_at, thumbnail_key, recipe::text AS recipe,
        hidden_at, hidden_reason
        """

    func record(_ images: [ImageRecord]) async throws -> Int {
        try await pool.transaction { connection in
            var inserted = 0
            for image in images {
                inserted += try await connection.execute(
                    """
                    INSERT INTO images (id, generation_id, user_id, width, height, seed, prompt, negative_prompt, model, engine,
                                        storage_key, content_type, bytes, visibility, created_at, thumbnail_key, recipe)
                    VALUES ($1::uuid, $2::uuid, $3::uuid, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17::jsonb)
                    ON CONFLICT (id) DO NOTHING
                    """,
                    [
                        image.id.description, image.generationID.description, image.userID.description, image.width, image.height,
                        image.seed, image.prompt, image.negativePrompt, image.model, image.engine, image.storageKey,
                        image.contentType, image.bytes, image.visibility.rawValue, image.createdAt, image.thumbnailKey,
                        try image.recipe.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) },
                    ]
                )
            }
            return inserted
        }
    }

    func find(_ id: ImageID) async throws -> ImageRecord? {
        try await pool.query("SELECT \(Self.columns) FROM images WHERE id = $1::uuid", [id.description]).first.map(Self.decode)
    }

    func list(owner: UserID, query: String?, after cursor: PageCursor?, limit: Int) async throws -> [ImageRecord] {
        try await pool.query(
            """
            SELECT \(Self.columns) FROM images
            WHERE user_id = $1::uuid
              AND ($2::text IS NULL OR search @@ websearch_to_tsquery('simple', $2::text))
              AND ($3::timestamptz IS NULL OR (created_at, id) < ($3::timestamptz, $4::uuid))
            ORDER BY created_at DESC, id DESC
            LIMIT $5
            """,
            [owner.description, query, cursor?.time, cursor?.id, limit]
        ).map(Self.decode)
    }

    func listPublic(after cursor: PageCursor?, limit: Int) async throws -> [ImageRecord] {
        try await pool.query(
            """
            SELECT \(Self.columns) FROM images
            WHERE visibility = 'public' AND hidden_at IS NULL
              AND ($1::timestamptz IS NULL OR (created_at, id) < ($1::timestamptz, $2::uuid))
            ORDER BY created_at DESC, id DESC
            LIMIT $3
            """,
            [cursor?.time, cursor?.id, limit]
        ).map(Self.decode)
    }

    func update(_ id: ImageID, owner: UserID, changes: ImageChanges) async throws -> ImageRecord? {
        let tagsJSON = try changes.tags.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        return try await pool.query(
            """
            UPDATE images SET
                visibility = coalesce($3, visibility),
                title = CASE WHEN $4 THEN $5 ELSE title END,
                tags = CASE WHEN $6::text IS NULL THEN tags ELSE ARRAY(SELECT jsonb_array_elements_text($6::jsonb)) END
            WHERE id = $1::uuid AND user_id = $2::uuid
            RETURNING \(Self.columns)
            """,
            [id.description, owner.description, changes.visibility?.rawValue, changes.title != nil, changes.title ?? nil, tagsJSON]
        ).first.map(Self.decode)
    }

    func delete(_ id: ImageID, owner: UserID) async throws -> ImageRecord? {
        try await pool.query(
            "DELETE FROM images WHERE id = $1::uuid AND user_id = $2::uuid RETURNING \(Self.columns)",
            [id.description, owner.description]
        ).first.map(Self.decode)
    }

    func deleteAll(owner: UserID) async throws -> [ImageRecord] {
        try await pool.query("DELETE FROM images WHERE user_id = $1::uuid RETURNING \(Self.columns)", [owner.description]).map(Self.decode)
    }

    static func decode(_ row: PostgresRow) throws -> ImageRecord {
        func id<Tag>(_ column: String) throws -> Identifier<Tag> {
            guard let value = Identifier<Tag>(try row.decode(String.self, column)) else { throw GalleryDataError.corrupt(column) }
            return value
        }
        guard let visibility = ImageVisibility(rawValue: try row.decode(String.self, "visibility")) else {
            throw GalleryDataError.corrupt("visibility")
        }
        let tags = try JSONDecoder().decode([String].self, from: Data(try row.decode(String.self, "tags").utf8))
        let recipe = try row.decode(String?.self, "recipe").map { try JSONDecoder().decode(ImageRecipe.self, from: Data($0.utf8)) }
        return ImageRecord(
            id: try id("id"), generationID: try id("generation_id"), userID: try id("user_id"),
            width: try row.decode(Int.self, "width"), height: try row.decode(Int.self, "height"), seed: try row.decode(Int64.self, "seed"),
            prompt: try row.decode(String.self, "prompt"), negativePrompt: try row.decode(String?.self, "negative_prompt"),
            model: try row.decode(String.self, "model"), engine: try row.decode(String.self, "engine"),
            storageKey: try row.decode(String.self, "storage_key"), thumbnailKey: try row.decode(String?.self, "thumbnail_key"), recipe: recipe,
            hiddenAt: try row.decode(Date?.self, "hidden_at"), hiddenReason: try row.decode(String?.self, "hidden_reason"), contentType: try row.decode(String.self, "content_type"),
            bytes: try row.decode(Int.self, "bytes"), visibility: visibility, title: try row.decode(String?.self, "title"),
            tags: tags, createdAt: try row.decode(Date.self, "created_at")
        )
    }
}

enum GalleryDataError: Error, CustomStringConvertible {
    case corrupt(String)
    var description: String {
        switch self {
        case .corrupt(let column): "stored image has an unreadable \(column)"
        }
    }
}
