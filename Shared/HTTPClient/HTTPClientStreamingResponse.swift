/// A response whose head has arrived and whose body is still arriving.
///
/// Iterate `body` to receive chunks as the server sends them; the stream throws if the transfer
/// fails midway. Cancelling the iterating task, or dropping the response without finishing the
/// body, aborts the transfer. A slow consumer pauses the transfer instead of buffering without bound.
package struct HTTPClientStreamingResponse: Sendable {
    package var status: Int
    package var headers: HTTPHeaders
    package var body: AsyncThrowingStream<[UInt8], any Error>

    package init(status: Int, headers: HTTPHeaders, body: AsyncThrowingStream<[UInt8], any Error>) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first value of header `name`, compared case-insensitively.
    package subscript(header name: String) -> String? {
        headers[name]
    }
}
