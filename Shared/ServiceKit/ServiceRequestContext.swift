import Core
package import Foundation
package import Hummingbird
import NIOCore

/// The request context of every service: request bodies are decoded and `Encodable` results
/// encoded with the wire's JSON configuration (`WireCodec`: snake_case `CodingKeys`, ISO 8601
/// dates with milliseconds, sorted keys), and the peer address is kept for per-IP limits.
package struct ServiceRequestContext: Hummingbird.RequestContext {
    package var coreContext: CoreRequestContextStorage
    /// The address of the connection's other end; nil for in-process test requests.
    package let peerAddress: String?

    package init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        peerAddress = source.channel.remoteAddress?.ipAddress
    }

    package var requestDecoder: JSONDecoder { Self.decoder }
    package var responseEncoder: JSONEncoder { Self.encoder }

    // Foundation's JSON coders are thread-safe once configured; one pair serves every request.
    private static let decoder = WireCodec.makeDecoder()
    private static let encoder = WireCodec.makeEncoder()
}
