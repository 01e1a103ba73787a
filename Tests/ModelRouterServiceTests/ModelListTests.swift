import Core
import Foundation
import Hummingbird
import HummingbirdTesting
import RedisClient
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
            }
        }
        let dead = try await fixture.redis.send("HEXISTS", fixture.keys.workers, "w-dead")
        #expect(dead.int == 0, "dead entries are removed lazily")
        let live = try await fixture.redis.send("HEXISTS", fixture.keys.workers, "w-preview")
        #expect(live.int == 1)
    }

    @Test func metricsShowQueueDepthPerPool() async throws {
        let fixture = try RouterFixture()
        let stream = fixture.keys.queue("gpu-sdxl")
        for index in 0..<3 { _ = try await fixture.redis.xadd(stream, maxLength: nil, fields: [("m", "job \(index)")]) }
        // A pool with a consumer group: one job delivered (pending), two waiting → depth 3 as well.
        let flux = fixture.keys.queue("gpu-flux")
        try await fixture.redis.xgroupCreate(flux, group: "workers", startID: "0")
        for index in 0..<3 { _ = try await fixture.redis.xadd(flux, maxLength: nil, fields: [("m", "job \(index)")]) }
        _ = try await fixture.redis.xreadgroup(group: "workers", consumer: "c", streams: [flux], count: 1, block: nil)

        try await fixture.app().test(.live) { client in
            var text = ""
            try await eventually(pollEvery: .milliseconds(100), "queue depth 3 for both pools; the metrics were:\n\(text.prefix(3000))") {
                text = try await client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
                return text.contains("queue=\"\(stream)\"} 3") && text.contains("queue=\"\(flux)\"} 3")
            }
            #expect(text.contains("pingvas_queue_depth{queue=\"\(stream)\"} 3"), "metrics were:\n\(text.prefix(3000))")
            #expect(text.contains("pingvas_queue_depth{queue=\"\(flux)\"} 3"))
            #expect(text.contains("pingvas_queue_depth{queue=\"\(fixture.keys.queue("cpu-preview"))\"} 0"))
        }
    }
}
