import Core
import Foundation
import ServiceKit
import TestSupport
import Testing
@testable import GenerationService

/// The reconciler against the real PostgreSQL and Redis: lost jobs are found however long the backlog.
@Suite(.timeLimit(.minutes(2))) struct ReconcilerTests {
    @Test func aJobRedisLostBehindMorePagesOfOlderWaitingJobsIsEnqueuedAgain() async throws {
        try await GenerationHarness.run(configure: {
            $0.reconcilePageSize = 3
            $0.reconcileInterval = .milliseconds(100)
            $0.lostJobGrace = .milliseconds(300)
        }) { h in
            let queue = RedisJobQueue(redis: h.redis, keys: h.keys)
            // Eleven waiting jobs, nobody to run them: nearly four pages of three.
            var ids: [JobID] = []
            var owners: [JobID: UserID] = [:]
            for _ in 0..<11 {
                let user = UserID()
                let id = try await h.create(user)
                ids.append(id)
                owners[id] = user
            }
            try await eventually("every job reached the queue") {
                try await queue.states(ids).values.filter { $0 == "waiting" }.count == ids.count
            }
            // Redis loses the newest one (as after a restart without persistence): only the walk past
            // the oldest pages can find it.
            let lost = try #require(ids.last)
            #expect(try await queue.remove(lost) == .removed)
            #expect(try await queue.states([lost])[lost] == nil)
            try await eventually(timeout: .seconds(20), "the lost job is waiting again") {
                try await queue.states([lost])[lost] == "waiting"
            }
            let user = try #require(owners[lost])
            let view = try await h.job(lost, user)
            #expect(view["status"] as? String == "queued", "\(view)")
            // The others were never taken for lost: still waiting, each once.
            #expect(try await queue.depth(pool: "preview").waiting == ids.count)
        }
    }
}
