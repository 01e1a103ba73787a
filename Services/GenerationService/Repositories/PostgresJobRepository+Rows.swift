import Core
import Foundation
import PostgresClient

extension PostgresJobRepository {
    static func job(id: JobID, on connection: PostgresConnection) async throws -> Job? {
        try await connection.query("SELECT \(columns) FROM jobs j WHERE j.id = $1", [id.description]).first.map(job)
    }

    static func insertOutbox(_ message: OutboxMessage, on connection: PostgresConnection) async throws {
        try await connection.execute(
            "INSERT INTO outbox (stream, envelope) VALUES ($1, $2)",
            [message.stream, String(decoding: message.envelope, as: UTF8.self)]
        )
    }

    static func job(_ row: PostgresRow) throws -> Job {
        let errorCode = try row.decode(String?.self, "error_code")
        let errorMessage = try row.decode(String?.self, "error_message")
        return Job(
            id: try identifier(row, "id"),
            userID: try identifier(row, "user_id"),
            status: try decodeEnum(JobStatus.self, row, "status"),
            request: try WireCodec.decodeBody(JobRequest.self, from: Array(try row.decode(String.self, "request").utf8)),
            queue: try row.decode(String.self, "queue"),
            plan: try decodeEnum(Plan.self, row, "plan"),
            priority: try row.decode(Int.self, "priority"),
            cost: Credits(try row.decode(Int64.self, "cost")),
            attempt: try row.decode(Int.self, "attempt"),
            retries: try row.decode(Int.self, "retries"),
            lastError: try row.decode(String?.self, "last_error_code").map {
                JobError(code: $0, message: try row.decode(String?.self, "last_error_message") ?? "")
            },
            images: try WireCodec.decodeBody([ProducedImage].self, from: Array(try row.decode(String.self, "images").utf8)),
            error: errorCode.map { JobError(code: $0, message: errorMessage ?? "") },
            createdAt: try row.decode(Date.self, "created_at"),
            startedAt: try row.decode(Date?.self, "started_at"),
            finishedAt: try row.decode(Date?.self, "finished_at"),
            deadlineAt: try row.decode(Date?.self, "deadline_at"),
            runTimeout: try row.decode(Int?.self, "run_timeout"),
            sequence: try row.decode(Int64.self, "seq")
        )
    }

    static func answer(_ row: PostgresRow) throws -> IdempotentAnswer {
        IdempotentAnswer(
            requestHash: try row.decode(String.self, "request_hash"),
            jobID: try identifier(row, "job_id"),
            status: try row.decode(Int.self, "status"),
            body: try row.decode(String.self, "body")
        )
    }

    static func identifier<Tag>(_ row: PostgresRow, _ column: String) throws -> Identifier<Tag> {
        guard let id = Identifier<Tag>(try row.decode(String.self, column)) else {
            throw PostgresError(.decoding, message: "not a UUID", column: column)
        }
        return id
    }

    private static func decodeEnum<T: RawRepresentable>(_ type: T.Type, _ row: PostgresRow, _ column: String) throws -> T
    where T.RawValue == String {
        guard let value = T(rawValue: try row.decode(String.self, column)) else {
            throw PostgresError(.decoding, message: "unexpected value", column: column)
        }
        return value
    }
}
