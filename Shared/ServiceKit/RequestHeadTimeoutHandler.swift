import NIOCore
import NIOHTTPTypes

/// Closes a connection whose request head does not arrive in time (slowloris).
///
/// The clock starts when the connection is accepted and, on a kept-alive connection, at the first
/// byte of the next request; it stops when the whole head has been parsed. The body and the
/// response are not timed here (uploads and event streams may take long); a connection that goes
/// quiet between requests is closed by Hummingbird's idle timeout. Sits after the HTTP codec and
/// puts a byte observer at the front of the pipeline to learn when the next request starts.
final class RequestHeadTimeoutHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private enum State { case idle, awaitingHead, inRequest }

    private let timeout: TimeAmount
    private var state = State.awaitingHead
    private var deadline: Scheduled<Void>?
    private var context: ChannelHandlerContext?

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        try? context.pipeline.syncOperations.addHandler(FirstByteObserver(owner: self), position: .first)
        arm()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head = unwrapInboundIn(data) {
            deadline?.cancel()
            deadline = nil
            state = .inRequest
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data), state == .inRequest { state = .idle }
        context.write(data, promise: promise)
    }

    /// Bytes arrived: on an idle connection they begin the next request's head.
    fileprivate func bytesArrived() {
        if state == .idle {
            state = .awaitingHead
            arm()
        }
    }

    private func arm() {
        guard let context else { return }
        deadline?.cancel()
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [weak self] in
            guard let self, self.state == .awaitingHead, let context = self.context else { return }
            context.close(promise: nil)
        }
    }
}

/// The front of the pipeline: tells `RequestHeadTimeoutHandler` when raw bytes arrive.
private final class FirstByteObserver: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    // Both handlers live in one channel's pipeline and run on its event loop only.
    private weak var owner: RequestHeadTimeoutHandler?

    init(owner: RequestHeadTimeoutHandler) {
        self.owner = owner
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        owner?.bytesArrived()
        context.fireChannelRead(data)
    }
}
