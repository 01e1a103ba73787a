import PostgresClient
import ServiceKit

/// The generation schema, applied at start-up by ServiceKit's `MigrationService`.
///
/// Never edit a released migration (the migrator checks checksums); add a new one.
enum GenerationMigrations {
    static let all: [Migration] = [jobs, outbox, idempotencyKeys, deliveries, webhooks, webhookHealthAndJobs]

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

    /// Users' completion webhooks: endpoints and one delivery per endpoint, job and event.
    static let webhooks = Migration(
        version: 5, name: "webhooks",
        sql: """
            CREATE TABLE webhook_endpoints (
                id uuid PRIMARY KEY,
                user_id uuid NOT NULL,
                url text NOT NULL,
                events text NOT NULL,
                secret text NOT NULL,
                created_at timestamptz NOT NULL DEFAULT now()
            );
            CREATE INDEX webhook_endpoints_user ON webhook_endpoints (user_id, created_at DESC);
            CREATE TABLE webhook_deliveries (
                id uuid PRIMARY KEY,
                endpoint_id uuid NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
                job_id uuid NOT NULL,
                event text NOT NULL,
                body text,
                status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
                attempts int NOT NULL DEFAULT 0,
                next_attempt_at timestamptz NOT NULL DEFAULT now(),
                last_status_code int,
                last_error text,
                created_at timestamptz NOT NULL DEFAULT now(),
                delivered_at timestamptz,
                UNIQUE (endpoint_id, job_id)
            );
            CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
            CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, created_at DESC);
            CREATE INDEX jobs_finished ON jobs (finished_at) WHERE finished_at IS NOT NULL;
            """
    )

    /// Endpoints that keep failing are disabled (`failing_since`, `disabled_at`); a job's own webhook
    /// (`webhook` on a submission) is an endpoint row bound to that job (`job_id`), signed with
    /// the owner's signing secret for per-job webhooks (`webhook_signing_secrets`).
    static let webhookHealthAndJobs = Migration(
        version: 6, name: "webhook_health_and_jobs",
        sql: """
            ALTER TABLE webhook_endpoints ADD COLUMN job_id uuid;
            ALTER TABLE webhook_endpoints ADD COLUMN failing_since timestamptz;
            ALTER TABLE webhook_endpoints ADD COLUMN disabled_at timestamptz;
            CREATE UNIQUE INDEX webhook_endpoints_job ON webhook_endpoints (job_id) WHERE job_id IS NOT NULL;
            CREATE TABLE webhook_signing_secrets (
                user_id uuid PRIMARY KEY,
                secret text NOT NULL,
                created_at timestamptz NOT NULL DEFAULT now()
            );
            """
    )
}
