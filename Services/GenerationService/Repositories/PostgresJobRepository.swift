import Core
import Foundation
import PostgresClient

/// `JobRepository` on the service's own PostgreSQL schema (the pool's search_path).
struct PostgresJobRepository: JobRepository {
    let pool: PostgresPool

    /// Every job column. (Queue positions come from the job queue itself: `QueueEstimator`.)
    static let columns = """
        j.id, j.seq, j.user_id, j.status, j.request::text AS request, j.queue, j.plan, j.priority, j.cost, j.attempt,
        j.retries, j.last_error_code, j.last_error_message, j.deadline_at, j.run_timeout,
        j.images::text AS images, j.error_code, j.error_message, j.created_at, j.started_at, j.finished_at
        """

    func idempotentAnswer(user: UserID, key: String) async throws -> IdempotentAnswer? {
        let rows = try await pool.query(
            "SELECT request_hash, job_id, status, body FROM idempotency_keys WHERE user_id = $1 AND key = $2",
            [user.description, key]
        )
        return try rows.first.map(Self.answer)
    }

    func queuedCount(user: UserID) async throws -> Int {
        let rows = try await pool.query("SELECT count(*) AS n FROM jobs WHERE user_id = $1 AND status = 'queued'", [user.description])
        return try rows.first?.decode(Int.self, "n") ?? 0
    }

    func create(
        _ job: NewJob, queued: OutboxMessage, answer: @Sendable (Job) throws -> IdempotentAnswer
    ) async throws -> Job {
        let request = String(decoding: try WireCodec.encodeBody(job.request), as: UTF8.self)
        return try await pool.transaction { connection in
            // One writer per user at a time, so concurrent submissions cannot both slip under the cap.
            _ = try await connection.query("SELECT pg_advisory_xact_lock(7301, hashtext($1))", [job.userID.description])
            let count = try await connection.query(
                "SELECT count(*) AS n FROM jobs WHERE user_id = $1 AND status = 'queued'", [job.userID.description]
            ).first?.decode(Int.self, "n") ?? 0
            guard count < job.maxQueued else { throw JobCreationError.queueFull(limit: job.maxQueued) }
            try await connection.execute(
                """
                INSERT INTO jobs (id, user_id, status, model, request, queue, plan, priority, cost, attempt, deadline_at, run_timeout)
                VALUES ($1, $2, 'queued', $3, $4::jsonb, $5, $6, $7, $8, 1, $9, $10)
                """,
                [job.id.description, job.userID.description, job.request.model, request, job.queue, job.plan.rawValue,
                 job.priority, job.cost.value, job.deadlineAt, job.runTimeout]
            )
            try await Self.insertOutbox(queued, on: connection)
            guard let created = try await Self.job(id: job.id, on: connection) else {
                throw PostgresError(.other("P0002"), message: "inserted job not found")
            }
            if let idempotency = job.idempotency {
                let stored = try answer(created)
                let inserted = try await connection.query(
                    """
                    INSERT INTO idempotency_keys (user_id, key, request_hash, job_id, status, body)
                    VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING 1 AS ok
                    """,
                    [job.userID.description, idempotency.key, idempotency.requestHash, job.id.description, stored.status, stored.body]
                )
                guard !inserted.isEmpty else { throw JobCreationError.idempotencyKeyTaken }
            }
            return created
        }
    }

    func job(id: JobID) async throws -> Job? {
        try await pool.withConnection { try await Self.job(id: id, on: $0) }
    }

    func jobs(user: UserID, before: Int64?, limit: Int) async throws -> [Job] {
        try await pool.query(
            "SELECT \(Self.columns) FROM jobs j WHERE j.user_id = $1 AND ($2::bigint IS NULL OR j.seq < $2) ORDER BY j.seq DESC LIMIT $3",
            [user.description, before, limit]
        ).map(Self.job)
    }

    func markStarted(id: JobID, attempt: Int, worker: String, at: Date) async throws -> Job? {
        try await pool.withConnection { connection in
            let updated = try await connection.execute(
                """
                UPDATE jobs SET status = 'running', started_at = $3, attempt = $2, worker_id = $4, changed_at = now()
                WHERE id = $1 AND ((status = 'queued' AND attempt <= $2) OR (status = 'running' AND attempt < $2))
                """,
                [id.description, attempt, at, worker]
            )
            return updated == 0 ? nil : try await Self.job(id: id, on: connection)
        }
    }

    func finish(
        id: JobID, change: JobCompletion, attempt: Int?, owner: UserID?, onlyQueued: Bool,
        completed: @Sendable (Job) throws -> OutboxMessage
    ) async throws -> Job? {
        let images = String(decoding: try WireCodec.encodeBody(change.images), as: UTF8.self)
        return try await pool.transaction { connection in
            let updated = try await connection.execute(
                """
                UPDATE jobs SET status = $2, images = $3::jsonb, error_code = $4, error_message = $5, finished_at = now(),
                    settlement = $6, attempt = greatest(attempt, coalesce($7::int, attempt)), changed_at = now()
                WHERE id = $1
                  AND status = ANY($8::text[])
                  AND ($7::int IS NULL OR attempt <= $7::int)
                  AND ($9::uuid IS NULL OR user_id = $9::uuid)
                """,
                [id.description, change.status.rawValue, images, change.error?.code, change.error?.message,
                 change.settlement.rawValue, attempt, onlyQueued ? "{queued}" : "{queued,running}", owner?.description]
            )
            guard updated > 0, let job = try await Self.job(id: id, on: connection) else { return nil }
            try await Self.insertOutbox(try completed(job), on: connection)
            return job
        }
    }

    func unsettled(limit: Int) async throws -> [(id: JobID, settlement: Settlement)] {
        try await pool.query(
            """
            SELECT id, settlement FROM jobs
            WHERE settlement IS NOT NULL AND settled_at IS NULL AND finished_at <= now() - make_interval(secs => $2)
            ORDER BY finished_at LIMIT $1
            """,
            [limit, Self.unsettledGrace.inSeconds]
        ).compactMap { row in
            guard let id = JobID(try row.decode(String.self, "id")),
                  let settlement = Settlement(rawValue: try row.decode(String.self, "settlement"))
            else { return nil }
            return (id, settlement)
        }
    }

    /// How long after a job finished the retry loop leaves its settlement to the call that finished
    /// it (which settles at once); a failed or interrupted one is picked up after this.
    static let unsettledGrace = Duration.seconds(3)

    func markSettled(id: JobID) async throws {
        try await pool.execute("UPDATE jobs SET settled_at = now() WHERE id = $1 AND settled_at IS NULL", [id.description])
    }
}
