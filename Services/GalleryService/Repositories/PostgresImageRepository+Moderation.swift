import Core
import Foundation
import PostgresClient
import ServiceKit

extension PostgresImageRepository: ModerationRepository {
    func report(_ image: ImageID, reporter: UserID, reason: String) async throws -> Bool {
        try await pool.execute(
            """
            INSERT INTO image_reports (id, image_id, reporter_id, reason) VALUES ($1::uuid, $2::uuid, $3::uuid, $4)
            ON CONFLICT (image_id, reporter_id) DO NOTHING
            """,
            [UUID().uuidString, image.description, reporter.description, reason]
        ) == 1
    }

    func reports(after cursor: PageCursor?, limit: Int) async throws -> [ImageReport] {
        try await pool.query(
            """
            SELECT r.id::text, r.image_id::text, r.reporter_id::text, r.reason, r.created_at, i.hidden_at IS NOT NULL AS hidden,
                   (SELECT count(*) FROM image_reports o WHERE o.image_id = r.image_id) AS reports
            FROM image_reports r JOIN images i ON i.id = r.image_id
            WHERE ($1::timestamptz IS NULL OR (r.created_at, r.id) < ($1::timestamptz, $2::uuid))
            ORDER BY r.created_at DESC, r.id DESC
            LIMIT $3
            """,
            [cursor?.time, cursor?.id, limit]
        ).map { row in
            guard let id = UUID(uuidString: try row.decode(String.self, "id")), let image = ImageID(try row.decode(String.self, "image_id")),
                let reporter = UserID(try row.decode(String.self, "reporter_id"))
            else { throw GalleryDataError.corrupt("report") }
            return ImageReport(
                id: id, imageID: image, reporterID: reporter, reason: try row.decode(String.self, "reason"),
                createdAt: try row.decode(Date.self, "created_at"), imageHidden: try row.decode(Bool.self, "hidden"),
                imageReports: try row.decode(Int.self, "reports")
            )
        }
    }

    func setHidden(_ image: ImageID, hide: Bool, admin: UserID, reason: String?) async throws -> ImageRecord? {
        try await pool.transaction { connection in
            let rows = try await connection.query(
                """
                UPDATE images SET hidden_at = CASE WHEN $2 THEN coalesce(hidden_at, now()) END,
                                  hidden_reason = CASE WHEN $2 THEN $3 END
                WHERE id = $1::uuid
                RETURNING \(Self.columns)
                """,
                [image.description, hide, reason]
            )
            guard let row = rows.first else { return nil }
            _ = try await connection.execute(
                "INSERT INTO moderation_actions (id, image_id, admin_id, action, reason) VALUES ($1::uuid, $2::uuid, $3::uuid, $4, $5)",
                [UUID().uuidString, image.description, admin.description, hide ? "hide" : "restore", reason]
            )
            return try Self.decode(row)
        }
    }

    func actions(after cursor: PageCursor?, limit: Int) async throws -> [ModerationAction] {
        try await pool.query(
            """
            SELECT id::text, image_id::text, admin_id::text, action, reason, created_at FROM moderation_actions
            WHERE ($1::timestamptz IS NULL OR (created_at, id) < ($1::timestamptz, $2::uuid))
            ORDER BY created_at DESC, id DESC
            LIMIT $3
            """,
            [cursor?.time, cursor?.id, limit]
        ).map { row in
            guard let id = UUID(uuidString: try row.decode(String.self, "id")), let image = ImageID(try row.decode(String.self, "image_id")),
                let admin = UserID(try row.decode(String.self, "admin_id"))
            else { throw GalleryDataError.corrupt("moderation action") }
            return ModerationAction(
                id: id, imageID: image, adminID: admin, action: try row.decode(String.self, "action"),
                reason: try row.decode(String?.self, "reason"), createdAt: try row.decode(Date.self, "created_at")
            )
        }
    }
}
