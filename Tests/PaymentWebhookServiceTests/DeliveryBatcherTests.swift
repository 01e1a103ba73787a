import Core
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresClient
import Synchronization
import Testing
import TestSupport
@testable import PaymentWebhookService

/// The intake's group commit (`DeliveryBatcher`): deliveries that arrive together are stored by one
/// statement, and each is still answered new or duplicate, or with an error, on its own.
@Suite(.timeLimit(.minutes(2))) struct DeliveryBatcherTests {
    static func delivery(_ key: String, event: String = "order_created") -> NewDelivery {
        NewDelivery(
            id: UUID(), dedupeKey: key, eventName: event, testMode: false, body: Array(#"{"key": "\#(key)"}"#.utf8),
            status: .pending, lastError: nil
        )
    }

    /// `dedupe_key` of every stored delivery, sorted.
    static func storedKeys(_ harness: PaymentTestHarness) async throws -> [String] {
        try await harness.pool.query("SELECT dedupe_key FROM webhook_deliveries ORDER BY dedupe_key").map { try $0.decode(String.self, "dedupe_key") }
    }

    @Test func oneBatchAnswersEachDeliveryNewOrDuplicate() async throws {
        try await PaymentTestHarness.withService(userURL: "http://127.0.0.1:9") { harness, _ in
            let repository = PostgresDeliveryRepository(pool: harness.pool)
            #expect(try await repository.store(Self.delivery("old")))
            // Copies of one key inside the batch, and a copy of one stored before.
            let batch = ["a", "a", "b", "old", "b", "c"].map { Self.delivery($0) }
            let answers = await repository.batcher.outcomes(of: batch).map { try? $0.get() }
            #expect(answers == [true, false, true, false, false, true])
            #expect(try await Self.storedKeys(harness) == ["a", "b", "c", "old"])
            // The row of a key is its first delivery's.
            let id = try await harness.pool.query("SELECT id FROM webhook_deliveries WHERE dedupe_key = 'a'").first?.decode(UUID.self, "id")
            #expect(id == batch[0].id)
        }
    }

    @Test func concurrentDeliveriesThroughTheRouteGetTheRightAnswersAndOneRowPerKey() async throws {
        try await PaymentTestHarness.withService(userURL: "http://127.0.0.1:9") { harness, client in
            let stored = (0..<10).map { LemonSqueezyPayloads.order(id: 20_000 + Int64($0), user: UserID().description) }
            for body in stored {
                #expect(String(buffer: try await harness.deliver(client, body).body) == #"{"duplicate":false,"received":true}"#)
            }
            let fresh = (0..<30).map { LemonSqueezyPayloads.order(id: 30_000 + Int64($0), user: UserID().description) }
            // Each new body three times, the stored ones once more, all at once and interleaved.
            let sends = (fresh + fresh + stored + fresh).enumerated().map { $0 }
            let answers = try await withThrowingTaskGroup(of: (String, HTTPResponse.Status, String).self) { group in
                for (_, body) in sends {
                    group.addTask {
                        let response = try await harness.deliver(client, body)
                        return (body, response.status, String(buffer: response.body))
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(answers.count == 100)
            #expect(answers.allSatisfy { $0.1 == .ok })
            for body in fresh {
                let mine = answers.filter { $0.0 == body }.map(\.2)
                #expect(mine.filter { $0 == #"{"duplicate":false,"received":true}"# }.count == 1)
                #expect(mine.filter { $0 == #"{"duplicate":true,"received":true}"# }.count == 2)
            }
            for body in stored {
                #expect(answers.filter { $0.0 == body }.map(\.2) == [#"{"duplicate":true,"received":true}"#])
            }
            let keys = try await Self.storedKeys(harness)
            #expect(keys.count == 40)
            #expect(Set(keys).count == 40)
        }
    }

    @Test func aBadRowFailsOnlyItsOwnDeliveryAndItsBatchStatementWritesNothing() async throws {
        try await PaymentTestHarness.withService(userURL: "http://127.0.0.1:9") { harness, client in
            try await harness.pool.execute(
                """
                CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF NEW.event_name = 'poison' THEN RAISE EXCEPTION 'poisoned delivery'; END IF;
                    RETURN NEW;
                END $$
                """, []
            )
            try await harness.pool.execute(
                "CREATE TRIGGER refuse_poison BEFORE INSERT ON webhook_deliveries FOR EACH ROW EXECUTE FUNCTION refuse_poison()", []
            )
            // One statement for the batch: when a row of it is refused, none of it is stored.
            await #expect(throws: PostgresError.self) {
                try await PostgresDeliveryRepository.insert([Self.delivery("good"), Self.delivery("bad", event: "poison")], into: harness.pool)
            }
            #expect(try await Self.storedKeys(harness).isEmpty)

            // The batcher then stores the others row by row: each answer is the one it would get alone.
            let repository = PostgresDeliveryRepository(pool: harness.pool)
            let batch = [Self.delivery("g1"), Self.delivery("bad", event: "poison"), Self.delivery("g2"), Self.delivery("g1")]
            let outcomes = await repository.batcher.outcomes(of: batch)
            #expect((try? outcomes[0].get()) == true)
            #expect((try? outcomes[2].get()) == true)
            #expect((try? outcomes[3].get()) == false)
            #expect(throws: PostgresError.self) { try outcomes[1].get() }
            #expect(try await Self.storedKeys(harness) == ["g1", "g2"])

            // Through the route: the poisoned delivery gets a problem, never a 200; the rest are stored.
            let poisoned = #"{"meta": {"event_name": "poison", "test_mode": false}, "data": {"type": "x", "id": "1", "attributes": {}}}"#
            let goods = (0..<12).map { LemonSqueezyPayloads.order(id: 40_000 + Int64($0), user: UserID().description) }
            let answers = try await withThrowingTaskGroup(of: (String, TestResponse).self) { group in
                for body in goods + [poisoned] {
                    group.addTask { (body, try await harness.deliver(client, body)) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            for (body, response) in answers {
                if body == poisoned {
                    #expect(response.status == .internalServerError)
                    #expect(response.headers[.contentType] == "application/problem+json")
                } else {
                    #expect(response.status == .ok)
                    #expect(String(buffer: response.body) == #"{"duplicate":false,"received":true}"#)
                }
            }
            #expect(try await Self.storedKeys(harness).count == 2 + goods.count)
        }
    }

    @Test func unreachablePostgreSQLAnswersEveryWaitingDelivery503() async throws {
        // Nothing listens on port 1: every write fails to connect, whatever batch it is in.
        let environment = ["PINGVAS_DATABASE_URL": "postgresql://pingvas@127.0.0.1:1/pingvas"]
        try await PaymentTestHarness.withService(userURL: "http://127.0.0.1:9", environment: environment, waitUntilReady: false) { harness, client in
            let bodies = (0..<24).map { LemonSqueezyPayloads.order(id: 50_000 + Int64($0), user: UserID().description) }
            let responses = try await withThrowingTaskGroup(of: TestResponse.self) { group in
                for body in bodies { group.addTask { try await harness.deliver(client, body) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(responses.count == 24)
            for response in responses {
                #expect(response.status == .serviceUnavailable)
                #expect(response.headers[.contentType] == "application/problem+json")
                let problem = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any]
                #expect(problem?["type"] as? String == "https://pingvas.studio/problems/dependency-unavailable")
            }
        }
    }

    @Test func deliveriesArrivingDuringAWriteGoTogetherInTheNextOne() async throws {
        let (gate, opener) = AsyncStream<Void>.makeStream()
        let batches = Mutex<[[String]]>([])
        let batcher = DeliveryBatcher(maxWriters: 1) { rows in
            let first = batches.withLock { batches in
                batches.append(rows.map(\.dedupeKey))
                return batches.count == 1
            }
            if first {
                for await _ in gate { break }
            }
            return Set(rows.map(\.dedupeKey))
        }
        try await withThrowingTaskGroup(of: (String, Bool).self) { group in
            group.addTask { ("k0", try await batcher.store(Self.delivery("k0"))) }
            // The first finds the batcher idle and is written at once, alone.
            try await eventually("the first delivery is being written") { batches.withLock { $0.count } == 1 }
            for index in 1...5 {
                group.addTask { ("k\(index)", try await batcher.store(Self.delivery("k\(index)"))) }
            }
            try await eventually("five deliveries wait for the write in flight") { batcher.waiting == 5 }
            #expect(batches.withLock { $0.count } == 1)
            opener.yield()
            var answers: [String: Bool] = [:]
            for try await (key, new) in group { answers[key] = new }
            #expect(answers == ["k0": true, "k1": true, "k2": true, "k3": true, "k4": true, "k5": true])
        }
        let written = batches.withLock { $0 }
        #expect(written.count == 2)
        #expect(written.first == ["k0"])
        #expect(Set(written.last ?? []) == ["k1", "k2", "k3", "k4", "k5"])
        #expect(batcher.waiting == 0)
    }

    @Test func aFailedWriteAnswersEveryDeliveryOfItsBatchWithTheError() async throws {
        struct Down: Error {}
        let batcher = DeliveryBatcher(maxWriters: 1) { _ in throw Down() }
        let results = await withTaskGroup(of: Bool?.self) { group in
            for index in 0..<20 {
                group.addTask { try? await batcher.store(Self.delivery("k\(index)")) }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.count == 20)
        #expect(results.allSatisfy { $0 == nil })
        #expect(batcher.waiting == 0)
    }
}
