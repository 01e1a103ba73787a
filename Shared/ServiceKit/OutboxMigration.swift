package import PostgresClient

extension Migration {
    /// The `outbox` table `PostgresOutboxRepository` reads: every service with an `OutboxRelay`
    /// creates it with this DDL, in its own schema.
    package static let outboxTableSQL = """
        CREATE TABLE outbox (
            id bigserial PRIMARY KEY,
            stream text NOT NULL,
            envelope text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            sent_at timestamptz
        );
        CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_at IS NULL;
        CREATE INDEX outbox_sent_at ON outbox (sent_at) WHERE sent_at IS NOT NULL;
        """

    /// A migration that creates only the outbox table.
    package static func outbox(version: Int) -> Migration {
        Migration(version: version, name: "outbox", sql: outboxTableSQL)
    }
}
