public import Foundation
import HTTPClient
import Logging
import RedisClient
import Synchronization

/// All seven executables on free loopback ports over a private PostgreSQL and Redis, wired as
/// `make run` wires them. End-to-end tests talk to `gatewayURL` only.
///
/// Images go to a fresh folder, or, with `PINGVAS_TEST_STORAGE=s3` in the test's environment, to a
/// fresh bucket on the shared moto server (`bucket`), so the same suites run against both stores.
public final class ServiceSuite: Sendable {
    public static let ids = ["user", "model-router", "generation", "gallery", "payment-webhook", "ai-worker", "gateway"]

    public let servers: TestServers
    public let processes: [String: ServiceProcess]
    public let storageDirectory: URL
    public let jwtSecret: String
    /// The bucket images go to when the suite runs with S3 storage (`PINGVAS_TEST_STORAGE=s3`).
    public let bucket: String?
    /// What every service was started with.
    public let environment: [String: String]
    private let extraWorkers = Mutex<[ServiceProcess]>([])

    public var gatewayURL: String { processes["gateway"]!.baseURL }

    /// Starts everything and waits until every service's `/readyz` answers 200.
    public static func start(extraEnvironment: [String: String] = [:]) async throws -> ServiceSuite {
        let servers = try TestStack.startPrivate()
        let storage = TestStack.repositoryRoot.appendingPathComponent(".run/test-private/\(TestStack.uniqueName("storage"))")
        try FileManager.default.createDirectory(at: storage, withIntermediateDirectories: true)
        var ports: [String: Int] = [:]
        for id in ids { ports[id] = try TestStack.freePort() }
        let secret = TestStack.uniqueName("jwt-secret-for-tests-only-0123456789")
        var environment = baseEnvironment(servers: servers, storage: storage, jwtSecret: secret, ports: ports)
        var bucket: String?
        if ProcessInfo.processInfo.environment["PINGVAS_TEST_STORAGE"] == "s3", extraEnvironment["PINGVAS_STORAGE_URL"] == nil {
            let name = try await MotoServer.makeBucket()
            environment.merge([
                "PINGVAS_STORAGE_URL": "s3://\(name)", "PINGVAS_S3_ENDPOINT": try await MotoServer.endpoint(),
                "PINGVAS_S3_ACCESS_KEY_ID": "AKIAE2E", "PINGVAS_S3_SECRET_ACCESS_KEY": "e2e-secret",
            ]) { _, new in new }
            bucket = name
        } else if let url = extraEnvironment["PINGVAS_STORAGE_URL"], url.hasPrefix("s3://") {
            bucket = URL(string: url)?.host
        }
        environment.merge(extraEnvironment) { _, new in new }
        var processes: [String: ServiceProcess] = [:]
        do {
            for id in ids { processes[id] = try ServiceProcess(id, port: ports[id], environment: environment) }
            for id in ids { try await processes[id]!.waitUntilReady(timeout: .seconds(60)) }
        } catch {
            for process in processes.values { await process.stop(timeout: .seconds(2)) }
            try? servers.stack("stop")
            throw error
        }
        return ServiceSuite(
            servers: servers, processes: processes, storageDirectory: storage, jwtSecret: secret, bucket: bucket, environment: environment
        )
    }

    /// Starts another ai-worker with the suite's settings (plus `extraEnvironment`) and waits until
    /// it is ready; `stop()` stops it too. For replacing a worker killed with `kill9()`.
    @discardableResult
    public func startWorker(extraEnvironment: [String: String] = [:]) async throws -> ServiceProcess {
        var environment = self.environment
        environment["PINGVAS_WORKER_ID"] = TestStack.uniqueName("worker")
        environment.merge(extraEnvironment) { _, new in new }
        let worker = try ServiceProcess("ai-worker", environment: environment)
        extraWorkers.withLock { $0.append(worker) }
        try await worker.waitUntilReady(timeout: .seconds(60))
        return worker
    }

    /// Runs `body` against a fresh suite and stops the suite afterwards, whatever `body` does.
    public static func with<T: Sendable>(
        extraEnvironment: [String: String] = [:], _ body: (ServiceSuite) async throws -> T
    ) async throws -> T {
        try await withClosing(try await start(extraEnvironment: extraEnvironment), close: { await $0.stop() }, body)
    }

    /// What every service needs to start as `make run` starts it: servers, secrets, catalog,
    /// storage, and where the others listen (`ports`, by id).
    public static func baseEnvironment(servers: TestServers, storage: URL, jwtSecret: String, ports: [String: Int]) -> [String: String] {
        var environment: [String: String] = [
            "PINGVAS_DATABASE_URL": servers.databaseURL,
            "PINGVAS_REDIS_URL": servers.redisURL,
            "PINGVAS_INTERNAL_SECRET": testInternalSecret,
            "PINGVAS_DB_SCHEMA": "pingvas_e2e",
            "PINGVAS_JWT_SIGNING_KEY": testJWTSigningKey(jwtSecret),
            "PINGVAS_STORAGE_DIR": storage.path,
            "PINGVAS_MODEL_CATALOG": TestStack.repositoryRoot.appendingPathComponent("config/models.json").path,
            "PINGVAS_MODELS_DIR": TestStack.repositoryRoot.appendingPathComponent(".run/test-model").path,
            "PINGVAS_WORKER_QUEUES": "cpu-preview",
            "PINGVAS_PASSWORD_HASH_COST": "10",
            "PINGVAS_SIGNUP_CREDITS": "100",
            "PINGVAS_RATE_LIMIT_PER_USER": "10000",
            "PINGVAS_RATE_LIMIT_PER_IP": "10000",
            "PINGVAS_LEMONSQUEEZY_SIGNING_SECRET": "whsec-test-only",
        ]
        for id in ids where id != "gateway" && id != "ai-worker" {
            let port = ports[id] ?? 9
            environment["PINGVAS_\(id.uppercased().replacingOccurrences(of: "-", with: "_"))_URL"] = "http://127.0.0.1:\(port)"
        }
        return environment
    }

    init(
        servers: TestServers, processes: [String: ServiceProcess], storageDirectory: URL, jwtSecret: String, bucket: String?,
        environment: [String: String]
    ) {
        self.bucket = bucket
        self.servers = servers
        self.environment = environment
        self.processes = processes
        self.storageDirectory = storageDirectory
        self.jwtSecret = jwtSecret
    }

    /// SIGTERM to every service (gateway first), then the servers; returns each exit status.
    @discardableResult
    public func stop() async -> [String: Int32?] {
        var statuses: [String: Int32?] = [:]
        for worker in extraWorkers.withLock({ $0 }) { await worker.stop(timeout: .seconds(5)) }
        for id in Self.ids.reversed() { statuses[id] = await processes[id]!.stop() }
        try? servers.stack("stop")
        return statuses
    }

    /// The keys of every stored image object (`<user id>/<image id>.png`, `.thumb.png`), from the
    /// folder or the bucket (without its prefix); temporary files left out.
    public func storedKeys() async throws -> [String] {
        if let bucket {
            let prefix = environment["PINGVAS_STORAGE_URL"].flatMap { URL(string: $0)?.path }?.trimmingCharacters(in: CharacterSet(charactersIn: "/")) ?? ""
            return try await MotoServer.keys(in: bucket).map { prefix.isEmpty ? $0 : String($0.dropFirst(prefix.count + 1)) }
        }
        let files = FileManager.default.enumerator(atPath: storageDirectory.path)?.compactMap { $0 as? String } ?? []
        return files.filter { $0.hasSuffix(".png") && !$0.contains("/.") }.sorted()
    }

    /// Every service's log, for failure messages.
    public var logs: String {
        Self.ids.map { "=== \($0)\n\(processes[$0]!.log.suffix(4000))" }.joined(separator: "\n")
    }

    static let probe = CurlHTTPClient(logger: Logger(label: "test-probe"))

    /// Waits until a service has subscribed to the pub/sub `channel` on the suite's Redis (e.g.
    /// generation, for the event stream of a job).
    public func waitForSubscriber(channel: String, timeout: Duration = .seconds(10), fileID: String = #fileID, line: Int = #line) async throws {
        let redis = RedisPool(configuration: RedisConfiguration(url: servers.redisURL, maxConnections: 1), logger: Logger(label: "test-probe"))
        try await withClosing(redis, close: { await $0.close() }) { redis in
            try await eventually(timeout: timeout, "a subscriber on \(channel)", fileID: fileID, line: line) {
                (try await redis.send("PUBSUB", "NUMSUB", channel).array?.last?.int ?? 0) >= 1
            }
        }
    }
}

extension ServiceProcess {
    /// Waits until the process answers 200 on `/readyz`; throws `ServiceSuiteError.notReady` (with
    /// the end of its log) when it does not within `timeout`, and at once when the process has ended.
    public func waitUntilReady(timeout: Duration = .seconds(60), fileID: String = #fileID, line: Int = #line) async throws {
        do {
            try await eventually(timeout: timeout, pollEvery: .milliseconds(100), "\(id) answers 200 on /readyz", fileID: fileID, line: line) {
                guard isRunning else { throw ServiceSuiteError.notReady(id, "it exited with status \(terminationStatus ?? -1)", log.suffix(3000).description) }
                let response = try? await ServiceSuite.probe.execute(HTTPClientRequest(url: "\(baseURL)/readyz", timeout: .seconds(3)))
                return response?.status == 200
            }
        } catch let timedOut as EventuallyTimeout {
            throw ServiceSuiteError.notReady(id, "\(timedOut)", log.suffix(3000).description)
        }
    }
}

public enum ServiceSuiteError: Error, CustomStringConvertible {
    case notReady(String, String, String)

    public var description: String {
        switch self {
        case .notReady(let id, let why, let log): "\(id) did not become ready: \(why); its log ends:\n\(log)"
        }
    }
}
