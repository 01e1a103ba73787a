import Core
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import RedisClient
import ServiceKit
import TestSupport
import Testing
@testable import ModelRouterService

/// A model-router wired to the shared test Redis under its own key prefix.
struct RouterFixture {
    let servers: TestServers
    let keys: PipelineKeys
    let redis: RedisPool
    let configuration: ModelRouterConfiguration

    static var catalogPath: String { TestStack.repositoryRoot.appendingPathComponent("config/models.json").path }

    init() throws {
        servers = try TestStack.shared()
        keys = PipelineKeys(namespace: TestStack.uniqueName("mr"))
        redis = RedisPool(configuration: RedisConfiguration(url: servers.redisURL), logger: Logger(label: "test"))
        configuration = ModelRouterConfiguration(
            service: ServiceConfiguration(serviceID: "model-router", port: 0, redisURL: servers.redisURL, internalSecret: testInternalSecret),
            catalogPath: Self.catalogPath, queueDepthInterval: .milliseconds(100), keys: keys
        )
    }

    func app() async throws -> some ApplicationProtocol { try await buildApplication(configuration: configuration) }

    static func json(_ buffer: ByteBuffer) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any])
    }

    static func body(_ request: RouteRequest) throws -> ByteBuffer {
        ByteBuffer(bytes: try WireCodec.encodeBody(request))
    }

    static func route(_ request: JobRequest) -> RouteRequest {
        RouteRequest(userID: UserID(), plan: .free, request: request)
    }

    /// A heartbeat as ai-worker writes it, `age` seconds old.
    func heartbeat(id: String, queues: [String], warm: [String], age: TimeInterval = 0) async throws {
        let object: [String: Any] = [
            "id": id, "queues": queues, "models_warm": warm, "busy": false, "engine": "preview",
            "seen_at": WireCodec.formatDate(Date().addingTimeInterval(-age)),
        ]
        let json = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        _ = try await redis.send("HSET", keys.workers, id, json)
    }
}
