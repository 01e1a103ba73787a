import Core
import Logging

extension PostgresPool {
    /// Runs `body` in a transaction on one pooled connection: BEGIN; body; COMMIT, or ROLLBACK and rethrow.
    ///
    /// With `retryOnSerializationFailure: n`, a serialization failure (40001) or deadlock (40P01),
    /// from the body or from COMMIT, reruns the whole body, up to n more times, after a short
    /// jittered backoff. The body must therefore have no effects outside the database.
    nonisolated(nonsending) package func transaction<T: Sendable>(
        isolation: PostgresIsolationLevel = .readCommitted,
        retryOnSerializationFailure attempts: Int = 0,
        _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        var retries = 0
        while true {
            do {
                guard let span = Tracing.startChild("db transaction", kind: .client, attributes: ["db.system": "postgresql"]) else {
                    return try await withConnection { connection in
                        try await connection.transaction(isolation: isolation, body)
                    }
                }
                do {
                    // Its statements are the span's children.
                    let result = try await RequestContext.$traceparent.withValue(span.context.traceparent) {
                        try await withConnection { connection in
                            try await connection.transaction(isolation: isolation, body)
                        }
                    }
                    span.end()
                    return result
                } catch {
                    span.fail(error)
                    span.end()
                    throw error
                }
            } catch let error as PostgresError where error.isTransient && retries < attempts {
                retries += 1
                logger.debug("retrying transaction", metadata: ["attempt": "\(retries + 1)", "error": "\(error)"])
                // Backoff grows with the attempt; jitter keeps the conflicting transactions apart.
                let base = 5 * min(retries, 10)
                try await Task.sleep(for: .milliseconds(Int.random(in: base...(base * 3))))
            }
        }
    }
}
