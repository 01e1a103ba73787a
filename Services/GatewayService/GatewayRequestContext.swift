import Hummingbird
import NIOCore

/// Request context that remembers the peer address, for per-IP rate limits.
struct GatewayRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let peerAddress: String?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        peerAddress = source.channel.remoteAddress?.ipAddress
    }
}
