/// The consumer side of a streaming response body: pulls chunks from the buffer, resumes a paused
/// transfer when the buffer has drained, and aborts the transfer when its task is cancelled or
/// when the body is dropped unfinished.
final class StreamingBodyReader: Sendable {
    private let transfer: CurlTransfer
    private let buffer: StreamingBodyBuffer
    private let loop: CurlMultiLoop

    init(transfer: CurlTransfer, buffer: StreamingBodyBuffer, loop: CurlMultiLoop) {
        self.transfer = transfer
        self.buffer = buffer
        self.loop = loop
    }

    deinit {
        if !buffer.isFinished { cancel() }
    }

    func next() async throws -> [UInt8]? {
        let transfer = self.transfer
        let loop = self.loop
        return try await withTaskCancellationHandler {
            try await buffer.next { loop.submit(.resume(transfer)) }
        } onCancel: {
            self.cancel()
        }
    }

    private func cancel() {
        transfer.requestCancel()
        buffer.finish(.cancelled)
        loop.submit(.cancel(transfer))
    }
}
