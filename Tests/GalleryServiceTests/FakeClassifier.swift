import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import Synchronization

/// A fake moderation classifier on 127.0.0.1: refuses prompts containing "forbidden", answers 500
/// twice and then allows for "flaky", takes 2 s for "slow", allows the rest; counts the calls.
final class FakeClassifier: Sendable {
    let url: String
    private let counter: Counter
    private let task: Task<Void, any Error>

    private init(url: String, counter: Counter, task: Task<Void, any Error>) {
        self.url = url
        self.counter = counter
        self.task = task
    }

    /// Calls answered or under way so far.
    var calls: Int { counter.value.withLock { $0 } }

    struct Submission: Decodable {
        var prompt: String
    }

    static func start() async throws -> FakeClassifier {
        let calls = Counter()
        let flakyCalls = Counter()
        let router = Router()
        router.post("/") { request, context -> Response in
            let body = try await request.decode(as: Submission.self, context: context)
            _ = calls.next()
            if body.prompt.contains("slow") { try await Task.sleep(for: .seconds(2)) }
            if body.prompt.contains("flaky"), flakyCalls.next() <= 2 { return Response(status: .internalServerError) }
            let verdict = body.prompt.contains("forbidden")
                ? #"{"allowed": false, "reason": "the classifier found it unsuitable"}"# : #"{"allowed": true}"#
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: verdict)))
        }
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        var logger = Logger(label: "fake-classifier")
        logger.logLevel = .critical
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
                continuation.finish()
            },
            logger: logger
        )
        let task = Task { try await app.runService(gracefulShutdownSignals: []) }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else {
            task.cancel()
            throw CancellationError()
        }
        return FakeClassifier(url: "http://127.0.0.1:\(port)/", counter: calls, task: task)
    }

    func stop() { task.cancel() }

    /// Numbers the calls 1, 2, ...
    final class Counter: Sendable {
        let value = Mutex(0)
        func next() -> Int { value.withLock { $0 += 1; return $0 } }
    }
}
