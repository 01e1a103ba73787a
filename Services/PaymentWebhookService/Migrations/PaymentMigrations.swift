import PostgresClient
import ServiceKit

/// The payment-webhook schema, applied at start-up by `MigrationService`.
enum PaymentMigrations {
    static let all: [Migration] = [
        Migration(
            version: 1, name: "create_webhook_deliveries",
            sql: """
                CREATE TABLE webhook_deliveries (
                    id              uuid PRIMARY KEY,
                    dedupe_key      text NOT NULL UNIQUE,
                    event_name      text NOT NULL,
                    test_mode       boolean NOT NULL DEFAULT false,
                    body            bytea NOT NULL,
                    received_at     timestamptz NOT NULL DEFAULT now(),
                    status          text NOT NULL CHECK (status IN ('pending', 'processed', 'failed', 'ignored', 'dead')),
                    attempts        integer NOT NULL DEFAULT 0,
                    next_attempt_at timestamptz NOT NULL DEFAULT now(),
                    last_error      text,
                    processed_at    timestamptz
                );
                CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
                CREATE INDEX webhook_deliveries_recent ON webhook_deliveries (received_at DESC, id DESC);
                """
        ),
        Migration(
            version: 2, name: "create_subscriptions_and_orders",
            sql: """
                CREATE TABLE subscriptions (
                    ls_subscription_id bigint PRIMARY KEY,
                    user_id            uuid NOT NULL,
                    variant_id         bigint NOT NULL,
                    plan               text NOT NULL,
                    status             text NOT NULL,
                    renews_at          timestamptz,
                    ends_at            timestamptz,
                    trial_ends_at      timestamptz,
                    ls_updated_at      timestamptz NOT NULL,
                    created_at         timestamptz NOT NULL DEFAULT now()
                );
                CREATE INDEX subscriptions_user ON subscriptions (user_id);

                CREATE TABLE orders (
                    ls_order_id     bigint PRIMARY KEY,
                    user_id         uuid,
                    variant_id      bigint,
                    identifier      text,
                    status          text NOT NULL,
                    total           bigint,
                    credits         bigint NOT NULL DEFAULT 0,
                    ls_updated_at   timestamptz,
                    created_at      timestamptz NOT NULL DEFAULT now()
                );
                CREATE INDEX orders_user ON orders (user_id);
                """
        ),
        Migration(
            version: 3, name: "refunds_and_plan_events",
            sql: """
                -- What each paid subscription invoice granted, so a refund takes back exactly that.
                CREATE TABLE invoices (
                    ls_invoice_id      bigint PRIMARY KEY,
                    ls_subscription_id bigint NOT NULL,
                    user_id            uuid NOT NULL,
                    credits            bigint NOT NULL CHECK (credits >= 0),
                    created_at         timestamptz NOT NULL DEFAULT now(),
                    refunded_at        timestamptz
                );
                CREATE INDEX invoices_user ON invoices (user_id);
                ALTER TABLE orders ADD COLUMN refunded_at timestamptz;

                -- The plan last announced for each user; changed_at orders the plan.changed events.
                CREATE TABLE user_plans (
                    user_id    uuid PRIMARY KEY,
                    plan       text NOT NULL,
                    changed_at timestamptz NOT NULL
                );

                -- Integration events written with the state change, relayed to Redis streams.

                """ + Migration.outboxTableSQL,
            // The same statements, with the outbox DDL written out here before it moved to ServiceKit.
            formerChecksums: ["abebe6cd04ad4815a4b86714f1f6ee4c9cfe93cd79d955bcac2d07bd284d17b3"]
        ),
        Migration(
            version: 4, name: "subscription_cancellations",
            sql: """
                -- Accounts deleted in user (from user.deleted): their subscriptions are cancelled at
                -- Lemon Squeezy, so nobody is billed for an account that is gone.
                CREATE TABLE deleted_users (
                    user_id     uuid PRIMARY KEY,
                    deleted_at  timestamptz NOT NULL,
                    recorded_at timestamptz NOT NULL DEFAULT now()
                );
                -- cancel_due_at: when the next cancellation attempt is due (set once the owner is
                -- deleted, pushed forward while an attempt is in flight or backing off);
                -- cancel_sent_at: when Lemon Squeezy accepted it (or did not know the subscription).
                ALTER TABLE subscriptions
                    ADD COLUMN cancel_due_at   timestamptz,
                    ADD COLUMN cancel_sent_at  timestamptz,
                    ADD COLUMN cancel_attempts integer NOT NULL DEFAULT 0,
                    ADD COLUMN cancel_error    text;
                CREATE INDEX subscriptions_cancel_due ON subscriptions (cancel_due_at)
                    WHERE cancel_due_at IS NOT NULL AND cancel_sent_at IS NULL;
                """
        ),
    ]
}
