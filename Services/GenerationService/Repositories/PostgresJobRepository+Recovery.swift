import Core
import Foundation
import PostgresClient

/// What the reconciler and the retry policy change: each a conditional update with its outbox row
/// in one transaction, so two replicas doing the same thing change the job once.
extension PostgresJobRepository {
    func retry(id: JobID, attempt: Int, error: JobError, queued: @Sendable (Job) throws -> OutboxMessage) async throws -> Job? {
        try await pool.transaction { connection in
            let updated = try await connection.execute(
                """
                UPDATE jobs SET status = 'queued', attempt = attempt + 1, retries = retries + 1, last_error_code = $3,
                    last_error_message = $4, started_at = NULL, worker_id = NULL, changed_at = now()
                WHERE id = $1 AND status IN ('queued', 'running') AND attempt = $2
                """,
                [id.description, attempt, error.code, error.message]
            )
            guard updated > 0, let job = try await Self.job(id: id, on: connection) else { return nil }
            try await Self.insertOutbox(try queued(job), on: connection)
            return job
        }
    }

    func requeueLost(id: JobID, changedBefore: Date, queued: @Sendable (Job) throws -> OutboxMessage) async throws -> Job? {
        try await pool.transaction { connection in
            // A job that had started gets a new attempt (a late report of the lost one is then stale);
            // one that never started keeps its number.
            let updated = try await connection.execute(
                """
                UPDATE jobs SET status = 'queued', attempt = CASE WHEN status = 'running' THEN attempt + 1 ELSE attempt END,
                    started_at = NULL, worker_id = NULL, changed_at = now()
                WHERE id = $1 AND status IN ('queued', 'running') AND changed_at < $2
                """,
                [id.description, changedBefore]
            )
            guard updated > 0, let job = try await Self.job(id: id, on: connection) else { return nil }
            try await Self.insertOutbox(try queued(job), on: connection)
            return job
        }
    }

    func unfinished(changedBefore before: Date, after cursor: UnfinishedCursor?, limit: Int) async throws -> [UnfinishedCursor] {
        let rows: PostgresRows
        if let cursor {
            rows = try await pool.query(
                """
                SELECT j.id, j.changed_at::text AS at FROM jobs j
                WHERE j.status IN ('queued', 'running') AND j.changed_at < $1
                  AND (j.changed_at > $2::timestamptz OR (j.changed_at = $2::timestamptz AND j.id > $3::uuid))
                ORDER BY j.changed_at, j.id LIMIT $4
                """,
                [before, cursor.changedAt, cursor.id.description, limit]
            )
        } else {
            rows = try await pool.query(
                "SELECT j.id, j.changed_at::text AS at FROM jobs j WHERE j.status IN ('queued', 'running') AND j.changed_at < $1 ORDER BY j.changed_at, j.id LIMIT $2",
                [before, limit]
            )
        }
        return try rows.map { UnfinishedCursor(id: try Self.identifier($0, "id"), changedAt: try $0.decode(String.self, "at")) }
    }

    func expired(now: Date, limit: Int) async throws -> [Job] {
        try await pool.query(
            "SELECT \(Self.columns) FROM jobs j WHERE j.status = 'queued' AND j.deadline_at < $1 ORDER BY j.deadline_at LIMIT $2",
            [now, limit]
        ).map(Self.job)
    }

    func overran(now: Date, grace: Duration, limit: Int) async throws -> [Job] {
        try await pool.query(
            """
            SELECT \(Self.columns) FROM jobs j
            WHERE j.status = 'running' AND j.run_timeout IS NOT NULL
              AND j.started_at + make_interval(secs => j.run_timeout + $2::float8) < $1
            ORDER BY j.started_at LIMIT $3
            """,
            [now, grace.inSeconds, limit]
        ).map(Self.job)
    }
}
