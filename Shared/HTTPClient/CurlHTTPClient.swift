import Core
package import Logging

/// An HTTP/1.1 and HTTP/2 client on libcurl's multi interface.
///
/// One dedicated thread drives every transfer of the client, so callers never block Swift's
/// cooperative pool and there is no thread per request. Connections are cached and reused per host;
/// TLS certificates and host names are always verified; redirects are not followed. Every request
/// carries `X-Request-Id` and `traceparent` from `RequestContext` unless it sets them itself.
/// Call `shutdown()` before the client goes away; dropping it stops the thread without waiting.
package final class CurlHTTPClient: Sendable {
    private let loop: CurlMultiLoop
    private let configuration: HTTPClientConfiguration

    package init(configuration: HTTPClientConfiguration = .init(), logger: Logger) {
        self.configuration = configuration
        self.loop = CurlMultiLoop(configuration: configuration, logger: logger)
        loop.start()
    }

    deinit {
        loop.requestStop()
    }

    /// Sends `request` and returns the whole response. 4xx and 5xx are returned, not thrown
    /// (`ensureSuccess()` turns them into errors); transport failures throw `HTTPClientError`,
    /// and cancelling the task aborts the transfer with `.cancelled`.
    package func execute(_ request: HTTPClientRequest) async throws(HTTPClientError) -> HTTPClientResponse {
        let (request, span) = Self.traced(request)
        do {
            let transfer = CurlTransfer(request: try PreparedRequest(request, configuration: configuration, streaming: false))
            let response = try await run(transfer) { continuation in .buffered(continuation) }
            span?.set("http.response.status_code", .int(Int64(response.status)))
            span?.end()
            return response
        } catch {
            span?.fail(error)
            span?.end()
            throw error
        }
    }

    /// A client span for `request` when a trace is being recorded: the request then carries the
    /// span's `traceparent`, so the server's span is its child.
    private static func traced(_ request: HTTPClientRequest) -> (HTTPClientRequest, TraceSpan?) {
        guard !request.headers.contains("traceparent"),
              let span = Tracing.startChild("HTTP \(request.method)", kind: .client, attributes: [
                  "http.request.method": .string(request.method), "url.full": .string(String(request.url.prefix { $0 != "?" })),
              ])
        else { return (request, nil) }
        var request = request
        request.headers.add(name: "traceparent", value: span.context.traceparent)
        return (request, span)
    }

    /// Sends `request` and returns as soon as the response head has arrived; the body follows as
    /// chunks in `body`. `request.timeout` limits the wait for the head only, so a stream such as
    /// server-sent events lasts until the server ends it, the consumer stops, or its task is cancelled.
    package func stream(_ request: HTTPClientRequest) async throws(HTTPClientError) -> HTTPClientStreamingResponse {
        let (request, span) = Self.traced(request)
        let transfer: CurlTransfer
        let buffer = StreamingBodyBuffer(limit: configuration.streamingBufferLimit)
        let head: CurlTransfer.ResponseHead
        do {
            transfer = CurlTransfer(request: try PreparedRequest(request, configuration: configuration, streaming: true))
            head = try await run(transfer) { continuation in .streaming(head: continuation, body: buffer) }
            // The span covers the wait for the response head; a stream may last for hours.
            span?.set("http.response.status_code", .int(Int64(head.status)))
            span?.end()
        } catch {
            span?.fail(error)
            span?.end()
            throw error
        }
        let reader = StreamingBodyReader(transfer: transfer, buffer: buffer, loop: loop)
        return HTTPClientStreamingResponse(
            status: head.status,
            headers: head.headers,
            body: AsyncThrowingStream { try await reader.next() }
        )
    }

    /// Stops the loop thread; transfers still in flight fail with `.shutdown`, later calls throw it.
    package func shutdown() async {
        await loop.stop()
    }

    /// Hands `transfer` to the loop and waits for the value its completion reports.
    private func run<Value: Sendable>(
        _ transfer: CurlTransfer,
        completion: (CheckedContinuation<Value, any Error>) -> CurlTransfer.Completion
    ) async throws(HTTPClientError) -> Value {
        let loop = self.loop
        do {
            return try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { continuation in
                    transfer.completion = completion(continuation)
                    if !loop.submit(.add(transfer)) {
                        transfer.completion = nil
                        continuation.resume(throwing: HTTPClientError.shutdown)
                    }
                }
            } onCancel: {
                transfer.requestCancel()
                loop.submit(.cancel(transfer))
            }
        } catch let error as HTTPClientError {
            throw error
        } catch {
            throw .other(code: -1, "\(error)")
        }
    }
}
