import Core
import Foundation
import PostgresClient

/// `WebhookRepository` on generation's own schema (`webhook_endpoints`, `webhook_deliveries`).
struct PostgresWebhookRepository: WebhookRepository {
    let pool: PostgresPool

    private static let endpointColumns = "id, user_id, url, events, secret, created_at, job_id, failing_since, disabled_at"

    func create(_ endpoint: WebhookEndpoint) async throws {
        _ = try await pool.execute(
            "INSERT INTO webhook_endpoints (id, user_id, url, events, secret, created_at) VALUES ($1::uuid, $2::uuid, $3, $4, $5, $6)",
            endpoint.id, endpoint.userID, endpoint.url, endpoint.events.map(\.rawValue).joined(separator: ","), endpoint.secret,
            endpoint.createdAt
        )
    }

    func endpoints(user: UUID) async throws -> [WebhookEndpoint] {
        try await pool.query(
            "SELECT \(Self.endpointColumns) FROM webhook_endpoints WHERE user_id = $1::uuid AND job_id IS NULL ORDER BY created_at DESC, id DESC LIMIT 100", user
        ).map(Self.endpoint)
    }

    func endpoint(id: UUID, user: UUID) async throws -> WebhookEndpoint? {
        try await pool.query("SELECT \(Self.endpointColumns) FROM webhook_endpoints WHERE id = $1::uuid AND user_id = $2::uuid AND job_id IS NULL", id, user)
            .first.map(Self.endpoint)
    }

    func delete(id: UUID, user: UUID) async throws -> Bool {
        try await pool.execute("DELETE FROM webhook_endpoints WHERE id = $1::uuid AND user_id = $2::uuid AND job_id IS NULL", id, user) > 0
    }

    func rotateSecret(id: UUID, user: UUID, secret: String) async throws -> WebhookEndpoint? {
        try await pool.query(
            "UPDATE webhook_endpoints SET secret = $3 WHERE id = $1::uuid AND user_id = $2::uuid AND job_id IS NULL RETURNING \(Self.endpointColumns)",
            id, user, secret
        ).first.map(Self.endpoint)
    }

    func deleteAll(user: UUID) async throws -> Int {
        try await pool.transaction { connection -> Int in
            _ = try await connection.execute("DELETE FROM webhook_signing_secrets WHERE user_id = $1::uuid", user)
            return try await connection.execute("DELETE FROM webhook_endpoints WHERE user_id = $1::uuid", user)
        }
    }

    func enable(id: UUID, user: UUID) async throws -> WebhookEndpoint? {
        try await pool.query(
            """
            UPDATE webhook_endpoints SET disabled_at = NULL, failing_since = NULL
            WHERE id = $1::uuid AND user_id = $2::uuid AND job_id IS NULL RETURNING \(Self.endpointColumns)
            """,
            id, user
        ).first.map(Self.endpoint)
    }

    func signingSecret(user: UUID) async throws -> String {
        // DO UPDATE (to the same value) so the existing row comes back: the secret never changes.
        let rows = try await pool.query(
            """
            INSERT INTO webhook_signing_secrets (user_id, secret) VALUES ($1::uuid, $2)
            ON CONFLICT (user_id) DO UPDATE SET secret = webhook_signing_secrets.secret RETURNING secret
            """,
            user, WebhookSigner.makeSecret()
        )
        return try rows.first?.decode(String.self, "secret") ?? ""
    }

    func createJobWebhook(job: UUID, user: UUID, url: String, events: [WebhookEvent]) async throws {
        let secret = try await signingSecret(user: user)
        _ = try await pool.execute(
            """
            INSERT INTO webhook_endpoints (id, user_id, url, events, secret, job_id) VALUES (gen_random_uuid(), $1::uuid, $2, $3, $4, $5::uuid)
            ON CONFLICT (job_id) WHERE job_id IS NOT NULL DO NOTHING
            """,
            user, url, events.map(\.rawValue).joined(separator: ","), secret, job
        )
    }

    func deliveries(endpoint: UUID, limit: Int) async throws -> [WebhookDelivery] {
        try await pool.query(
            """
            SELECT id, job_id, event, status, attempts, last_status_code, last_error, created_at, next_attempt_at, delivered_at
            FROM webhook_deliveries WHERE endpoint_id = $1::uuid ORDER BY created_at DESC, id DESC LIMIT $2
            """,
            endpoint, limit
        ).map { row in
            WebhookDelivery(
                id: try row.decode(UUID.self, "id"), jobID: try row.decode(UUID.self, "job_id"), event: try row.decode(String.self, "event"),
                status: try row.decode(String.self, "status"), attempts: try row.decode(Int.self, "attempts"),
                lastStatusCode: try row.decode(Int?.self, "last_status_code"), lastError: try row.decode(String?.self, "last_error"),
                createdAt: try row.decode(Date.self, "created_at"), nextAttemptAt: try row.decode(Date.self, "next_attempt_at"),
                deliveredAt: try row.decode(Date?.self, "delivered_at")
            )
        }
    }

    func enqueueFinishedJobs() async throws -> Int {
        // Jobs of the last day only: a dispatcher stopped for longer does not send day-old news.
        try await pool.execute(
            """
            INSERT INTO webhook_deliveries (id, endpoint_id, job_id, event)
            SELECT gen_random_uuid(), e.id, j.id, 'generation.' || j.status
            FROM jobs j JOIN webhook_endpoints e ON e.user_id = j.user_id
            WHERE j.finished_at IS NOT NULL AND j.finished_at > now() - interval '1 day' AND e.disabled_at IS NULL
              AND ((e.job_id IS NULL AND j.finished_at >= e.created_at) OR e.job_id = j.id)
              AND j.status IN ('succeeded', 'failed', 'canceled')
              AND ('generation.' || j.status) = ANY (string_to_array(e.events, ','))
            ON CONFLICT (endpoint_id, job_id) DO NOTHING
            """
        )
    }

    func claimDue(limit: Int, hold: Duration) async throws -> [DueDelivery] {
        try await pool.query(
            """
            UPDATE webhook_deliveries d SET next_attempt_at = now() + make_interval(secs => $2)
            FROM webhook_endpoints e
            WHERE e.id = d.endpoint_id AND e.disabled_at IS NULL AND d.id IN (
                SELECT id FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= now()
                ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
            RETURNING d.id, d.job_id, d.event, d.attempts, d.body, e.url, e.secret
            """,
            limit, hold.inSeconds
        ).map { row in
            DueDelivery(
                id: try row.decode(UUID.self, "id"), jobID: try row.decode(UUID.self, "job_id"), event: try row.decode(String.self, "event"),
                attempts: try row.decode(Int.self, "attempts"), body: try row.decode(String?.self, "body"),
                url: try row.decode(String.self, "url"), secret: try row.decode(String.self, "secret")
            )
        }
    }

    func fixBody(_ id: UUID, body: String) async throws -> String {
        let rows = try await pool.query(
            "UPDATE webhook_deliveries SET body = COALESCE(body, $2) WHERE id = $1::uuid RETURNING body", id, body
        )
        return try rows.first?.decode(String?.self, "body") ?? body
    }

    func record(_ id: UUID, statusCode: Int?, error: String?, delivered: Bool, retryAfter: Duration?, disableAfter: Duration) async throws -> Bool {
        try await pool.transaction { connection -> Bool in
            let updated = try await connection.query(
                """
                UPDATE webhook_deliveries SET attempts = attempts + 1, last_status_code = $2, last_error = $3,
                    status = CASE WHEN $4 THEN 'delivered' WHEN $5::float8 IS NULL THEN 'failed' ELSE 'pending' END,
                    delivered_at = CASE WHEN $4 THEN now() END,
                    next_attempt_at = CASE WHEN $5::float8 IS NULL THEN next_attempt_at ELSE now() + make_interval(secs => $5::float8) END
                WHERE id = $1::uuid AND status = 'pending' RETURNING endpoint_id
                """,
                id, statusCode, error, delivered, retryAfter?.inSeconds
            )
            guard let endpoint = try updated.first?.decode(UUID.self, "endpoint_id") else { return false }
            // The endpoint's health: a success forgets its failures; a failure of an endpoint failing
            // since before `disableAfter` ago disables it (a job's own webhook is never disabled).
            let disabled = try await connection.query(
                """
                UPDATE webhook_endpoints SET failing_since = CASE WHEN $2 THEN NULL ELSE coalesce(failing_since, now()) END,
                    disabled_at = CASE WHEN NOT $2 AND job_id IS NULL AND disabled_at IS NULL
                        AND failing_since <= now() - make_interval(secs => $3::float8) THEN now() ELSE disabled_at END
                WHERE id = $1::uuid RETURNING disabled_at IS NOT NULL AND NOT $2 AND failing_since <= now() - make_interval(secs => $3::float8) AS disabled
                """,
                endpoint, delivered, disableAfter.inSeconds
            ).first?.decode(Bool.self, "disabled") ?? false
            if disabled {
                _ = try await connection.execute(
                    """
                    UPDATE webhook_deliveries SET status = 'failed', last_error = 'endpoint disabled: failing for too long'
                    WHERE endpoint_id = $1::uuid AND status = 'pending'
                    """,
                    endpoint
                )
            }
            return disabled
        }
    }

    static func endpoint(_ row: PostgresRow) throws -> WebhookEndpoint {
        WebhookEndpoint(
            id: try row.decode(UUID.self, "id"), userID: try row.decode(UUID.self, "user_id"), url: try row.decode(String.self, "url"),
            events: try row.decode(String.self, "events").split(separator: ",").compactMap { WebhookEvent(rawValue: String($0)) },
            secret: try row.decode(String.self, "secret"), createdAt: try row.decode(Date.self, "created_at"),
            jobID: try row.decode(UUID?.self, "job_id"), failingSince: try row.decode(Date?.self, "failing_since"),
            disabledAt: try row.decode(Date?.self, "disabled_at")
        )
    }
}
