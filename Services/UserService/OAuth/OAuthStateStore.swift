import Core
import Foundation
import RedisClient
import ServiceKit

/// The pending logins between `start` and `callback`, in Redis for 10 minutes and usable once:
/// the state names the provider, the PKCE verifier and the nonce.
struct OAuthStateStore: Sendable {
    struct Pending: Codable, Sendable, Equatable {
        var provider: String
        var verifier: String
        var nonce: String
    }

    let redis: RedisPool
    let keys: PipelineKeys
    var lifetime: Duration = .seconds(600)

    func save(state: String, _ pending: Pending) async throws {
        let value = String(decoding: try JSONEncoder().encode(pending), as: UTF8.self)
        _ = try await redis.send(["SET", key(state), value, "EX", String(lifetime.components.seconds)])
    }

    /// The pending login of `state`, removed as it is read (a state works once); nil when unknown or used.
    func take(state: String) async throws -> Pending? {
        guard state.count <= 128, let reply = try await redis.send(["GETDEL", key(state)]).string else { return nil }
        return try? JSONDecoder().decode(Pending.self, from: Data(reply.utf8))
    }

    private func key(_ state: String) -> String { "\(keys.namespace):oauth:state:\(state)" }
}
