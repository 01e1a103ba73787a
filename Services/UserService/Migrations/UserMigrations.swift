import PostgresClient

/// The user service's schema, applied in order at start-up by `MigrationService`.
///
/// Never edit an applied migration (its checksum is recorded); add the next version instead.
enum UserMigrations {
    static let all: [Migration] = [
        createUsers, createRefreshTokens, createCreditLedger, creditDebt, planChanges, createAPIKeys, adminAudit, oauthIdentities, accountDeletion,
    ]

    static let createUsers = Migration(
        version: 1, name: "create_users",
        sql: """
            CREATE TABLE users (
                id            uuid PRIMARY KEY,
                email         text NOT NULL UNIQUE CHECK (email = lower(email)),
                password_hash text NOT NULL,
                display_name  text NOT NULL,
                roles         text[] NOT NULL DEFAULT '{user}',
                plan          text NOT NULL DEFAULT 'free',
                created_at    timestamptz NOT NULL DEFAULT now(),
                updated_at    timestamptz NOT NULL DEFAULT now()
            );
            """
    )

    /// Refresh tokens are stored only as SHA-256 hex; a family is every token descended from one login.
    static let createRefreshTokens = Migration(
        version: 2, name: "create_refresh_tokens",
        sql: """
            CREATE TABLE refresh_tokens (
                token_hash  text PRIMARY KEY,
                user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                family_id   uuid NOT NULL,
                expires_at  timestamptz NOT NULL,
                created_at  timestamptz NOT NULL DEFAULT now(),
                used_at     timestamptz,
                revoked_at  timestamptz,
                replaced_by text
            );
            CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
            CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);
            """
    )

    /// One account per user; every balance change is a ledger entry (`amount` is the signed change).
    static let createCreditLedger = Migration(
        version: 3, name: "create_credit_ledger",
        sql: """
            CREATE TABLE credit_accounts (
                user_id    uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
                balance    bigint NOT NULL CHECK (balance >= 0),
                updated_at timestamptz NOT NULL DEFAULT now()
            );

            CREATE TABLE credit_holds (
                job_id     uuid PRIMARY KEY,
                hold_id    uuid NOT NULL UNIQUE,
                user_id    uuid NOT NULL REFERENCES credit_accounts (user_id) ON DELETE CASCADE,
                amount     bigint NOT NULL CHECK (amount > 0),
                status     text NOT NULL DEFAULT 'held' CHECK (status IN ('held', 'captured', 'released')),
                created_at timestamptz NOT NULL DEFAULT now(),
                settled_at timestamptz
            );
            CREATE INDEX credit_holds_user_idx ON credit_holds (user_id);

            CREATE TABLE credit_entries (
                id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                user_id    uuid NOT NULL REFERENCES credit_accounts (user_id) ON DELETE CASCADE,
                amount     bigint NOT NULL,
                kind       text NOT NULL CHECK (kind IN ('grant', 'hold', 'capture', 'release')),
                reason     text,
                reference  text,
                job_id     uuid,
                created_at timestamptz NOT NULL DEFAULT now()
            );
            CREATE INDEX credit_entries_user_idx ON credit_entries (user_id, id DESC);
            -- One entry per job and kind: hold, capture and release each happen at most once.
            CREATE UNIQUE INDEX credit_entries_job_kind_key ON credit_entries (job_id, kind) WHERE job_id IS NOT NULL;
            -- Grants are idempotent by reference (payments retry; the signup grant is 'signup:<user id>').
            CREATE UNIQUE INDEX credit_entries_grant_reference_key ON credit_entries (reference) WHERE kind = 'grant';
            """
    )

    /// Take-backs (refunds) that exceed the balance become debt instead of a negative balance.
    ///
    /// `credit_entries.amount` stays the signed change of what the user owns net (balance minus
    /// debt); `debt_change` is the signed change of the debt, so the balance changed by
    /// `amount + debt_change`. Debits are idempotent by reference, like grants.
    static let creditDebt = Migration(
        version: 4, name: "credit_debt",
        sql: """
            ALTER TABLE credit_accounts ADD COLUMN debt bigint NOT NULL DEFAULT 0 CHECK (debt >= 0);
            ALTER TABLE credit_entries ADD COLUMN debt_change bigint NOT NULL DEFAULT 0;
            ALTER TABLE credit_entries DROP CONSTRAINT credit_entries_kind_check;
            ALTER TABLE credit_entries ADD CONSTRAINT credit_entries_kind_check
                CHECK (kind IN ('grant', 'hold', 'capture', 'release', 'debit'));
            CREATE UNIQUE INDEX credit_entries_debit_reference_key ON credit_entries (reference) WHERE kind = 'debit';
            """
    )

    /// When the plan last changed through a `plan.changed` event: older events are ignored.
    static let planChanges = Migration(
        version: 5, name: "plan_changes",
        sql: """
            ALTER TABLE users ADD COLUMN plan_changed_at timestamptz;
            """
    )

    /// API keys: only the SHA-256 of the secret is kept; `prefix` is what lists show to tell keys apart.
    static let createAPIKeys = Migration(
        version: 6, name: "create_api_keys",
        sql: """
            CREATE TABLE api_keys (
                id           uuid PRIMARY KEY,
                user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                name         text NOT NULL,
                prefix       text NOT NULL,
                key_hash     text NOT NULL UNIQUE,
                scopes       text NOT NULL,
                created_at   timestamptz NOT NULL DEFAULT now(),
                last_used_at timestamptz,
                revoked_at   timestamptz
            );
            CREATE INDEX api_keys_user_idx ON api_keys (user_id, created_at);
            """
    )

    /// Suspension (`suspended_at`) and the audit log of every admin action, with the state before and after.
    static let adminAudit = Migration(
        version: 7, name: "admin_audit",
        sql: """
            ALTER TABLE users ADD COLUMN suspended_at timestamptz;
            CREATE TABLE admin_audit (
                id             bigserial PRIMARY KEY,
                admin_id       uuid NOT NULL,
                action         text NOT NULL,
                target_user_id uuid,
                reason         text,
                before         text,
                after          text,
                created_at     timestamptz NOT NULL DEFAULT now()
            );
            CREATE INDEX admin_audit_target_idx ON admin_audit (target_user_id, id);
            """
    )

    /// Social logins: a provider's account (`subject`) signs in as one user.
    static let oauthIdentities = Migration(
        version: 8, name: "oauth_identities",
        sql: """
            CREATE TABLE oauth_identities (
                provider   text NOT NULL,
                subject    text NOT NULL,
                user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                email      text,
                created_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (provider, subject)
            );
            CREATE INDEX oauth_identities_user_idx ON oauth_identities (user_id);
            """
    )

    /// Deleted accounts: the row stays (the ledger refers to it) but is anonymised; `deleted_at`
    /// marks it, `deletion_announced_at` says `user.deleted` is on the user events stream.
    static let accountDeletion = Migration(
        version: 9, name: "account_deletion",
        sql: """
            ALTER TABLE users ADD COLUMN deleted_at timestamptz;
            ALTER TABLE users ADD COLUMN deletion_announced_at timestamptz;
            CREATE INDEX users_deletions_unannounced_idx ON users (deleted_at) WHERE deleted_at IS NOT NULL AND deletion_announced_at IS NULL;
            """
    )
}
