import Synchronization

/// The hand-over point between the loop thread, which offers body chunks as libcurl delivers them,
/// and the task that iterates a streaming response's body.
///
/// Holds at most about `limit` bytes: past that, `offer` refuses the chunk, the write callback
/// pauses the transfer, and the consumer asks for it to be resumed once it has drained half.
final class StreamingBodyBuffer: Sendable {
    private struct State {
        var chunks: [[UInt8]] = []
        var nextChunk = 0
        var bufferedBytes = 0
        var paused = false
        var end: HTTPClientError??  // .some(nil) = finished cleanly, .some(error) = failed
        var waiter: CheckedContinuation<[UInt8]?, any Error>?
    }

    /// What the consumer must do after taking from the buffer.
    enum Taken {
        case chunk([UInt8], resumeTransfer: Bool)
        case end(HTTPClientError?)
        case wait
    }

    private let state = Mutex(State())
    private let limit: Int

    init(limit: Int) {
        self.limit = max(1, limit)
    }

    /// Loop thread: stores `chunk` or hands it to a waiting consumer. `false` means "full, pause".
    func offer(_ chunk: [UInt8]) -> Bool {
        let (accepted, waiter) = state.withLock { state -> (Bool, CheckedContinuation<[UInt8]?, any Error>?) in
            if state.end != nil { return (true, nil) }  // consumer gone or transfer over: drop
            if let waiter = state.waiter {
                state.waiter = nil
                return (true, waiter)
            }
            if state.bufferedBytes > 0, state.bufferedBytes + chunk.count > limit {
                state.paused = true
                return (false, nil)
            }
            state.chunks.append(chunk)
            state.bufferedBytes += chunk.count
            return (true, nil)
        }
        waiter?.resume(returning: chunk)
        return accepted
    }

    /// Ends the body: `nil` after the last chunk, or an error. Buffered chunks are still delivered first.
    /// Only the first call counts.
    func finish(_ error: HTTPClientError?) {
        let waiter = state.withLock { state -> CheckedContinuation<[UInt8]?, any Error>? in
            guard state.end == nil else { return nil }
            state.end = .some(error)
            defer { state.waiter = nil }
            return state.waiter
        }
        if let error {
            waiter?.resume(throwing: error)
        } else {
            waiter?.resume(returning: nil)
        }
    }

    var isFinished: Bool {
        state.withLock { $0.end != nil }
    }

    /// Consumer: the next chunk, `nil` at the end. `resumeTransfer` is called when a paused transfer may go on.
    func next(resumeTransfer: () -> Void) async throws -> [UInt8]? {
        try await withCheckedThrowingContinuation { continuation in
            switch take(orWait: continuation) {
            case .chunk(let chunk, let resume):
                if resume { resumeTransfer() }
                continuation.resume(returning: chunk)
            case .end(let error):
                if let error {
                    continuation.resume(throwing: error)
                } else {
                    continuation.resume(returning: nil)
                }
            case .wait:
                break
            }
        }
    }

    private func take(orWait continuation: CheckedContinuation<[UInt8]?, any Error>) -> Taken {
        state.withLock { state in
            if state.nextChunk < state.chunks.count {
                let chunk = state.chunks[state.nextChunk]
                state.nextChunk += 1
                if state.nextChunk == state.chunks.count {
                    state.chunks.removeAll(keepingCapacity: true)
                    state.nextChunk = 0
                }
                state.bufferedBytes -= chunk.count
                let resume = state.paused && state.bufferedBytes <= limit / 2
                if resume { state.paused = false }
                return .chunk(chunk, resumeTransfer: resume)
            }
            if let end = state.end { return .end(end) }
            state.waiter = continuation
            return .wait
        }
    }
}
