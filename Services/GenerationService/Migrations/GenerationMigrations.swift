import PostgresClient
import ServiceKit

/// The generation schema, applied at start-up by ServiceKit's `MigrationService`.
///
/// Never edit a released migration (the migrator checks checksums); add a new one.
enum GenerationMigrations {
    static let all: [Migration] = [jobs, outbox, idempotencyKeys, deliveries]

    static let jobs = Migration(
        version: 1, name: "jobs",
        sql: """
            CREATE TABLE jobs (
                id uuid PRIMARY KEY,
                seq bigserial NOT NULL UNIQUE,
                user_id uuid NOT NULL,
                status text NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'canceled')),
                model text NOT NULL,
                request jsonb NOT NULL,
                queue text NOT NULL,
                plan text NOT NULL,
                priority int NOT NULL,
                cost bigint NOT NULL CHECK (cost >= 0),
                attempt int NOT NULL DEFAULT 1,
                images jsonb NOT NULL DEFAULT '[]',
                error_code text,
                error_message text,
                created_at timestamptz NOT NULL DEFAULT now(),
                started_at timestamptz,
                finished_at timestamptz,
                settlement text CHECK (settlement IN ('capture', 'release')),
                settled_at timestamptz
            );
            CREATE INDEX jobs_user_seq ON jobs (user_id, seq DESC);
            CREATE INDEX jobs_queued_by_queue ON jobs (queue, priority DESC, seq) WHERE status = 'queued';
            CREATE INDEX jobs_queued_by_user ON jobs (user_id) WHERE status = 'queued';
            CREATE INDEX jobs_unsettled ON jobs (finished_at) WHERE settlement IS NOT NULL AND settled_at IS NULL;
            """
    )

    static let outbox = Migration.outbox(version: 2)

    static let idempotencyKeys = Migration(
        version: 3, name: "idempotency_keys",
        sql: """
            CREATE TABLE idempotency_keys (
                user_id uuid NOT NULL,
                key text NOT NULL,
                request_hash text NOT NULL,
                job_id uuid NOT NULL REFERENCES jobs (id),
                status int NOT NULL,
                body text NOT NULL,
                created_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (user_id, key)
            );
            """
    )

    /// Retries, deadlines and the reconciler (docs/pipeline.md, "Failures").
    static let deliveries = Migration(
        version: 4, name: "retries_and_deadlines",
        sql: """
            ALTER TABLE jobs ADD COLUMN retries int NOT NULL DEFAULT 0;
            ALTER TABLE jobs ADD COLUMN last_error_code text;
            ALTER TABLE jobs ADD COLUMN last_error_message text;
            ALTER TABLE jobs ADD COLUMN deadline_at timestamptz;
            ALTER TABLE jobs ADD COLUMN run_timeout int;
            ALTER TABLE jobs ADD COLUMN worker_id text;
            ALTER TABLE jobs ADD COLUMN changed_at timestamptz NOT NULL DEFAULT now();
            CREATE INDEX jobs_unfinished ON jobs (changed_at) WHERE status IN ('queued', 'running');
            """
    )
}
