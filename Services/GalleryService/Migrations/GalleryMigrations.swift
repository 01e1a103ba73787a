import PostgresClient

/// The gallery's schema, applied at start-up by `MigrationService`.
enum GalleryMigrations {
    static let all: [Migration] = [
        Migration(
            version: 1, name: "create_images",
            sql: """
                CREATE TABLE images (
                    id              uuid PRIMARY KEY,
                    generation_id   uuid NOT NULL,
                    user_id         uuid NOT NULL,
                    width           integer NOT NULL CHECK (width > 0),
                    height          integer NOT NULL CHECK (height > 0),
                    seed            bigint NOT NULL,
                    prompt          text NOT NULL,
                    negative_prompt text,
                    model           text NOT NULL,
                    engine          text NOT NULL,
                    storage_key     text NOT NULL,
                    content_type    text NOT NULL,
                    bytes           bigint NOT NULL,
                    visibility      text NOT NULL DEFAULT 'private' CHECK (visibility IN ('private', 'unlisted', 'public')),
                    title           text,
                    tags            text[] NOT NULL DEFAULT '{}',
                    created_at      timestamptz NOT NULL DEFAULT now(),
                    search          tsvector GENERATED ALWAYS AS (to_tsvector('simple', prompt || ' ' || coalesce(title, ''))) STORED
                );
                CREATE INDEX images_owner_recent ON images (user_id, created_at DESC, id DESC);
                CREATE INDEX images_public_recent ON images (created_at DESC, id DESC) WHERE visibility = 'public';
                CREATE INDEX images_search ON images USING gin (search);
                """
        ),
        // Null for images recorded before workers made thumbnails: those serve the full image.
        Migration(version: 2, name: "images_thumbnail_key", sql: "ALTER TABLE images ADD COLUMN thumbnail_key text"),
        // Null for images recorded before generation sent the whole request.
        Migration(version: 3, name: "images_recipe", sql: "ALTER TABLE images ADD COLUMN recipe jsonb"),
        Migration(
            version: 4, name: "moderation",
            sql: """
                ALTER TABLE images ADD COLUMN hidden_at timestamptz, ADD COLUMN hidden_reason text;
                DROP INDEX images_public_recent;
                CREATE INDEX images_public_recent ON images (created_at DESC, id DESC) WHERE visibility = 'public' AND hidden_at IS NULL;
                CREATE TABLE image_reports (
                    id          uuid PRIMARY KEY,
                    image_id    uuid NOT NULL REFERENCES images (id) ON DELETE CASCADE,
                    reporter_id uuid NOT NULL,
                    reason      text NOT NULL,
                    created_at  timestamptz NOT NULL DEFAULT now(),
                    UNIQUE (image_id, reporter_id)
                );
                CREATE INDEX image_reports_recent ON image_reports (created_at DESC, id DESC);
                -- Every admin decision, kept after the image is gone.
                CREATE TABLE moderation_actions (
                    id         uuid PRIMARY KEY,
                    image_id   uuid NOT NULL,
                    admin_id   uuid NOT NULL,
                    action     text NOT NULL CHECK (action IN ('hide', 'restore')),
                    reason     text,
                    created_at timestamptz NOT NULL DEFAULT now()
                );
                CREATE INDEX moderation_actions_recent ON moderation_actions (created_at DESC, id DESC);
                """
        ),
    ]
}
