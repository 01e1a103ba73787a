import Core
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import RedisClient
import ServiceKit
import TestSupport
import Testing
@testable import GenerationService

/// A live generation service on the real test PostgreSQL and Redis, with fake user and model-router.
///
/// Each run gets its own schema prefix and its own Redis stream namespace, so tests run in parallel.
struct GenerationHarness: Sendable {
    let client: any TestClientProtocol
    let redis: RedisPool
    let fakes: FakeUpstreams
    let keys: PipelineKeys

    static func run(
        configure: (inout GenerationConfiguration) -> Void = { _ in }, _ body: @Sendable (GenerationHarness) async throws -> Void
    ) async throws {
        let servers = try TestStack.shared()
        let fakes = try await FakeUpstreams.start()
        defer { fakes.stop() }
        let keys = PipelineKeys(namespace: TestStack.uniqueName("gen") + ":pingvas")
        let service = ServiceConfiguration(
            serviceID: "generation", host: "127.0.0.1", port: 0, logLevel: .warning,
            databaseURL: servers.databaseURL,
            databaseSchema: ServiceConfiguration.schemaName(prefix: TestStack.uniqueName("t"), serviceID: "generation"),
            databasePoolSize: 4, redisURL: servers.redisURL, redisPoolSize: 4, internalSecret: testInternalSecret
        )
        var configuration = GenerationConfiguration(
            service: service, userURL: fakes.url, modelRouterURL: fakes.url, resultLease: .seconds(60),
            outboxInterval: .milliseconds(20), keys: keys
        )
        configure(&configuration)
        let redis = RedisPool(configuration: RedisConfiguration(url: servers.redisURL, maxConnections: 2), logger: Logger(label: "test"))
        let app = try await buildApplication(configuration: configuration)
        try await withClosing(redis, close: { await $0.close() }) { redis in
            try await app.test(.live) { client in
                try await client.waitUntilReady()
                try await body(GenerationHarness(client: client, redis: redis, fakes: fakes, keys: keys))
            }
        }
    }

    // MARK: requests

    static func headers(_ user: UserID, plan: Plan = .free, key: String? = nil) -> HTTPFields {
        var fields = HTTPFields.identity(user, roles: "user", plan: plan.rawValue).merging([.contentType: "application/json"])
        if let key { fields[.idempotencyKey] = key }
        return fields
    }

    static func requestBody(prompt: String = "a penguin", width: Int = 64, model: String = "preview") -> ByteBuffer {
        ByteBuffer(string: #"{"model":"\#(model)","prompt":"\#(prompt)","width":\#(width),"height":64,"steps":4,"cfg_scale":7}"#)
    }

    func post(_ user: UserID, plan: Plan = .free, key: String? = nil, body: ByteBuffer = requestBody()) async throws -> TestResponse {
        try await client.execute(uri: "/api/v1/generations", method: .post, headers: Self.headers(user, plan: plan, key: key), body: body)
    }

    /// Creates a job and returns its id.
    func create(_ user: UserID, plan: Plan = .free) async throws -> JobID {
        let response = try await post(user, plan: plan)
        #expect(response.status == .accepted)
        let object = try Self.object(response.body)
        return try #require((object["id"] as? String).flatMap(JobID.init))
    }

    func get(_ path: String, _ user: UserID, headers extra: HTTPFields = [:]) async throws -> TestResponse {
        var fields = Self.headers(user)
        fields.append(contentsOf: extra)
        return try await client.execute(uri: path, method: .get, headers: fields)
    }

    func job(_ id: JobID, _ user: UserID) async throws -> [String: Any] {
        let response = try await get("/api/v1/generations/\(id)", user)
        #expect(response.status == .ok)
        return try Self.object(response.body)
    }

    func cancel(_ id: JobID, _ user: UserID) async throws -> TestResponse {
        try await client.execute(uri: "/api/v1/generations/\(id)/cancel", method: .post, headers: Self.headers(user))
    }

    // MARK: worker side

    func sendResult(_ message: some WireMessage) async throws {
        _ = try await redis.xadd(keys.results, maxLength: nil, fields: [("m", String(decoding: try WireCodec.encode(message), as: UTF8.self))])
    }

    /// Whether the service's results consumer has read and acknowledged every result sent so far.
    func resultsConsumed() async throws -> Bool {
        try await redis.hasConsumedEverything(on: keys.results, group: PipelineKeys.resultsGroup)
    }

    /// Envelope texts (field `m`) on `stream`, oldest first.
    func streamMessages(_ stream: String) async throws -> [String] {
        let reply = try await redis.send("XRANGE", stream, "-", "+")
        return (reply.array ?? []).compactMap { entry -> String? in
            guard let parts = entry.array, parts.count == 2, let fields = parts[1].array, fields.count >= 2 else { return nil }
            return fields[1].string
        }
    }

    // MARK: helpers

    static func object(_ buffer: ByteBuffer) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any])
    }

    static func problemType(_ buffer: ByteBuffer) throws -> String? {
        (try object(buffer)["type"] as? String).map { $0.replacingOccurrences(of: Problem.typeBase, with: "") }
    }
}
