import Core
import Foundation
import Hummingbird
import HummingbirdTesting
import RedisClient
import ServiceKit
import TestSupport
import Testing
@testable import ModelRouterService

@Suite(.timeLimit(.minutes(2))) struct ModelListTests {
    @Test func listsModelsWithAvailabilityFromHeartbeats() async throws {
        let fixture = try RouterFixture()
        try await fixture.heartbeat(id: "w-preview", queues: ["cpu-preview"], warm: ["preview"])
        try await fixture.heartbeat(id: "w-sd15", queues: ["gpu-sd15"], warm: [])
        try await fixture.heartbeat(id: "w-dead", queues: ["gpu-sdxl"], warm: ["sdxl"], age: 120)

        try await fixture.app().test(.router) { client in
            try await client.execute(uri: "/api/v1/models", method: .get) { response in
                #expect(response.status == .ok)
                let items = try #require(try RouterFixture.json(response.body)["items"] as? [[String: Any]])
                let byID = Dictionary(uniqueKeysWithValues: items.map { ($0["id"] as? String ?? "", $0) })
                let preview = try #require(byID["preview"])
                #expect(preview["family"] as? String == "preview")
                #expect((preview["limits"] as? [String: Any])?["max_width"] as? Int == 1024)
                #expect((preview["cost"] as? [String: Any])?["at_defaults"] as? Int == 1)
                #expect(preview["files"] == nil, "weight paths stay internal")
                let availability = try #require(preview["availability"] as? [String: Any])
                #expect(availability["status"] as? String == "available")
                #expect(availability["warm_workers"] as? Int == 1)
                #expect(availability["workers"] as? Int == 1)
                #expect((byID["sd15"]?["availability"] as? [String: Any])?["status"] as? String == "cold")
                #expect(((byID["sd15"]?["controlnets"] as? [[String: Any]])?.count ?? 0) > 0)
                let sdxl = try #require(byID["sdxl"]?["availability"] as? [String: Any])
                #expect(sdxl["status"] as? String == "offline", "a 2-minute-old heartbeat is a dead worker")
                #expect(sdxl["workers"] as? Int == 0)
                #expect(preview["capabilities"] as? [String] == ["txt2img"])
                #expect(byID["sd15"]?["capabilities"] as? [String] == ["txt2img", "img2img", "inpaint"])
                #expect(byID["flux-schnell"]?["capabilities"] as? [String] == ["txt2img", "img2img"], "Flux takes init images but no masks")
            }
        }
        let dead = try await fixture.redis.send("HEXISTS", fixture.keys.workers, "w-dead")
        #expect(dead.int == 0, "dead entries are removed lazily")
        let live = try await fixture.redis.send("HEXISTS", fixture.keys.workers, "w-preview")
        #expect(live.int == 1)
    }

    @Test func metricsAndTheQueueEndpointShowDepthPerPool() async throws {
        let fixture = try RouterFixture()
        let queue = RedisJobQueue(redis: fixture.redis, keys: fixture.keys)
        func enqueue(_ pool: String) async throws {
            let job = JobQueued(
                jobID: JobID(), userID: UserID(), plan: .studio,
                request: JobRequest(model: "x", prompt: "x", width: 64, height: 64, steps: 1, cfgScale: 7), cost: 1, queue: pool, enqueuedAt: Date()
            )
            try await queue.enqueue(job, envelope: "{}")
        }
        for _ in 0..<3 { try await enqueue("gpu-sdxl") }
        // One of three running: depth counts waiting and running jobs alike.
        for _ in 0..<3 { try await enqueue("gpu-flux") }
        _ = try await queue.dispatch(pools: ["gpu-flux"], worker: "w", lease: .seconds(60))

        try await fixture.app().test(.live) { client in
            var text = ""
            try await eventually(pollEvery: .milliseconds(100), "queue depth 3 for both pools; the metrics were:\n\(text.prefix(3000))") {
                text = try await client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
                return text.contains("pingvas_queue_depth{queue=\"gpu-sdxl\"} 3") && text.contains("pingvas_queue_depth{queue=\"gpu-flux\"} 3")
            }
            #expect(text.contains("pingvas_queue_waiting{queue=\"gpu-flux\"} 2"), "metrics were:\n\(text.prefix(3000))")
            #expect(text.contains("pingvas_queue_depth{queue=\"cpu-preview\"} 0"))

            let flux = try await client.execute(uri: "/internal/queues/gpu-flux", method: .get) { try RouterFixture.json($0.body) }
            #expect(flux["depth"] as? Int == 3 && flux["waiting"] as? Int == 2 && flux["running"] as? Int == 1, "\(flux)")
            let unknown = try await client.execute(uri: "/internal/queues/no-such-pool", method: .get) { $0.status }
            #expect(unknown == .notFound)

            // The public model list shows the wait: three jobs with no measured run time (10 s each
            // by default) ahead of a new one and no live worker (counted as the one that will come).
            let models = try await client.execute(uri: "/api/v1/models", method: .get) { try RouterFixture.json($0.body) }
            let queues = (models["items"] as? [[String: Any]] ?? []).compactMap { ($0["availability"] as? [String: Any])?["queue"] as? [String: Any] }
            #expect(queues.contains { $0["waiting"] as? Int == 3 && $0["running"] as? Int == 0 && (($0["wait_seconds"] as? NSNumber)?.doubleValue ?? 0) >= 29.9 }, "\(queues)")
            #expect(queues.contains { $0["waiting"] as? Int == 2 && $0["running"] as? Int == 1 }, "\(queues)")
        }
    }
}
