package import RedisClient
import Synchronization

/// Drains a pub/sub stream in the background so that a test can wait for messages with a deadline.
package final class MessageCollector: Sendable {
    private let box = MessageBox()
    private let task: Task<Void, Never>

    package init(_ stream: AsyncStream<RedisPubSubMessage>) {
        let box = self.box
        task = Task { for await message in stream { box.append(message) } }
    }

    /// Every message received so far, oldest first.
    package var received: [RedisPubSubMessage] { box.all }

    /// Waits until at least `count` messages have arrived; all received by then. Throws
    /// `EventuallyTimeout` (naming what did arrive) after `timeout`.
    @discardableResult
    package func wait(for count: Int, timeout: Duration = .seconds(5), fileID: String = #fileID, line: Int = #line) async throws -> [RedisPubSubMessage] {
        try await eventuallyValue(timeout: timeout, "\(count) message(s); received: \(received)", fileID: fileID, line: line) {
            let received = received
            return received.count >= count ? received : nil
        }
    }

    package func cancel() { task.cancel() }
}

private final class MessageBox: Sendable {
    private let storage = Mutex<[RedisPubSubMessage]>([])
    func append(_ message: RedisPubSubMessage) { storage.withLock { $0.append(message) } }
    var all: [RedisPubSubMessage] { storage.withLock { $0 } }
}

extension RedisPool {
    /// Whether consumer group `group` has read every entry of `stream` so far and acknowledged all it read.
    package func hasConsumedEverything(on stream: String, group: String) async throws -> Bool {
        let newest = try await send("XREVRANGE", stream, "+", "-", "COUNT", "1").array?.first?.array?.first?.string
        let groups = try await send("XINFO", "GROUPS", stream).array ?? []
        return groups.contains { entry in
            let pairs = entry.array ?? []
            var fields: [String: RedisValue] = [:]
            for index in stride(from: 0, to: pairs.count - 1, by: 2) {
                if let name = pairs[index].string { fields[name] = pairs[index + 1] }
            }
            return fields["name"]?.string == group && fields["last-delivered-id"]?.string == newest && fields["pending"]?.int == 0
        }
    }
}
