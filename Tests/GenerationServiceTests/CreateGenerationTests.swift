import Core
import Foundation
import Hummingbird
import HummingbirdTesting
import ServiceKit
import Synchronization
import TestSupport
import Testing
@testable import GenerationService

@Suite(.timeLimit(.minutes(2))) struct CreateGenerationTests {
    @Test func createHoldsTheRoutedCostAndRelaysJobQueued() async throws {
        try await GenerationHarness.run { h in
            let user = UserID()
            let response = try await h.post(user)
            #expect(response.status == .accepted)
            let body = try GenerationHarness.object(response.body)
            let id = try #require((body["id"] as? String).flatMap(JobID.init))
            #expect(body["status"] as? String == "queued")
            #expect(body["cost"] as? Int == 7)
            #expect(body["queue_position"] as? Int == 0)

            let holds = h.fakes.holds(of: id)
            #expect(holds.count == 1)
            #expect(holds.first?.userID == user)
            #expect(holds.first?.amount == 7)
            #expect(h.fakes.calls.withLock { $0.routes.first?.userID } == user)

            let job = try await h.job(id, user)
            #expect(job["status"] as? String == "queued")
            #expect(job["model"] as? String == "preview")
            #expect((job["progress"] as? [String: Any])?["total"] as? Int == 4)

            let queue = RedisJobQueue(redis: h.redis, keys: h.keys)
            try await eventually("the job reached the preview pool's queue") { try await queue.states([id])[id] == "waiting" }
            let dispatched = try #require(try await queue.dispatch(pools: ["preview"], worker: "test", lease: .seconds(5)))
            #expect(dispatched.jobID == id && dispatched.attempt == 1)
            let queued = try WireCodec.decode(JobQueued.self, from: Array(dispatched.envelope.utf8))
            #expect(queued.data.deadline != nil && (queued.data.runTimeout ?? 0) >= 120, "a queue deadline and a run timeout travel with it")
            #expect(queued.data.jobID == id)
            #expect(queued.data.userID == user)
            #expect(queued.data.cost == 7)
            #expect(queued.data.attempt == 1)
            #expect(queued.data.priority == Plan.free.priority)
            #expect(queued.data.request.prompt == "a penguin")
        }
    }

    @Test func aStyleTheRouterAppliedTravelsWithTheJobAndAClientCannotSetTheStyledPrompt() async throws {
        try await GenerationHarness.run { h in
            let users = [UserID(), UserID()]  // one job each: a free user runs one job at a time
            let styled = ByteBuffer(string: #"{"model":"preview","prompt":"a penguin","width":64,"height":64,"steps":4,"cfg_scale":7,"style":"loud"}"#)
            let sneaky = ByteBuffer(string: #"{"model":"preview","prompt":"a penguin","width":64,"height":64,"steps":4,"cfg_scale":7,"styled_prompt":"something else"}"#)
            var ids: [JobID] = []
            for (user, body) in zip(users, [styled, sneaky]) {
                let response = try await h.post(user, body: body)
                #expect(response.status == .accepted)
                ids.append(try #require((try GenerationHarness.object(response.body)["id"] as? String).flatMap(JobID.init)))
            }
            let queue = RedisJobQueue(redis: h.redis, keys: h.keys)
            var requests: [JobID: JobRequest] = [:]
            try await eventually("both jobs reached the queue") {
                let states = try await queue.states(ids)
                return states.count == 2 && states.values.allSatisfy { $0 == "waiting" }
            }
            for _ in ids {
                let dispatched = try #require(try await queue.dispatch(pools: ["preview"], worker: "test", lease: .seconds(5)))
                requests[dispatched.jobID] = try WireCodec.decode(JobQueued.self, from: Array(dispatched.envelope.utf8)).data.request
            }
            let first = try #require(requests[ids[0]])
            #expect(first.style == "loud" && first.prompt == "a penguin", "the recipe keeps the style and the user's prompt")
            #expect(first.enginePrompt == "A PENGUIN!" && first.engineNegativePrompt == "quiet" && first.sampler == "euler")
            let second = try #require(requests[ids[1]])
            #expect(second.styledPrompt == nil && second.enginePrompt == "a penguin", "only the router's answer sets the styled prompt")
        }
    }

    @Test func queuePositionIsTheDispatchOrderWithAnETA() async throws {
        try await GenerationHarness.run { h in
            let queue = RedisJobQueue(redis: h.redis, keys: h.keys)
            // Each answer is as of its submission: wait until the previous job is in the queue.
            func submit(_ plan: Plan) async throws -> (id: JobID, user: UserID, body: [String: Any]) {
                let user = UserID()
                let body = try GenerationHarness.object(try await h.post(user, plan: plan).body)
                let id = try #require((body["id"] as? String).flatMap(JobID.init))
                try await eventually("the job reached the queue") { try await queue.states([id])[id] == "waiting" }
                return (id, user, body)
            }
            let free1 = try await submit(.free)
            let free2 = try await submit(.free)
            let studio = try await submit(.studio)
            #expect(free1.body["queue_position"] as? Int == 0)
            #expect(free2.body["queue_position"] as? Int == 1)
            #expect(studio.body["queue_position"] as? Int == 0, "a studio job goes ahead of waiting free jobs")
            for job in [free1, free2, studio] {
                #expect(job.body["estimated_start_at"] is String && job.body["estimated_finish_at"] is String, "\(job.body)")
            }
            // Read back: the studio job is first now, the free ones behind it in their order.
            var positions: [Int?] = []
            for job in [free1, free2, studio] {
                let view = try await h.job(job.id, job.user)
                #expect(view["estimated_start_at"] is String, "\(view)")
                positions.append(view["queue_position"] as? Int)
            }
            #expect(positions == [1, 2, 0])
            let started = try #require(try await queue.dispatch(pools: ["preview"], worker: "w", lease: .seconds(5)))
            #expect(started.jobID == studio.id)
        }
    }

    @Test func sameIdempotencyKeyAndBodyReturnsTheFirstAnswer() async throws {
        try await GenerationHarness.run { h in
            let user = UserID()
            let first = try await h.post(user, key: "key-1")
            // Same request, other spacing and key order: still the same canonical body.
            let reordered = ByteBuffer(string: #"{ "prompt": "a penguin", "model": "preview", "height": 64, "width": 64, "cfg_scale": 7, "steps": 4 }"#)
            let second = try await h.post(user, key: "key-1", body: reordered)
            #expect(first.status == .accepted)
            #expect(second.status == .accepted)
            #expect(String(buffer: first.body) == String(buffer: second.body))
            #expect(h.fakes.calls.withLock { $0.holds.count } == 1)

            let other = try await h.post(user, key: "key-1", body: GenerationHarness.requestBody(prompt: "a walrus"))
            #expect(other.status == .unprocessableContent)
            #expect(try GenerationHarness.problemType(other.body) == "idempotency-key-reused")

            // Keys are per user.
            let someoneElse = try await h.post(UserID(), key: "key-1")
            #expect(someoneElse.status == .accepted)
            #expect(String(buffer: someoneElse.body) != String(buffer: first.body))
        }
    }

    @Test func routerValidationProblemsPassThrough() async throws {
        try await GenerationHarness.run { h in
            let user = UserID()
            let tooWide = try await h.post(user, body: GenerationHarness.requestBody(width: 4096))
            #expect(tooWide.status == .unprocessableContent)
            let problem = try GenerationHarness.object(tooWide.body)
            #expect(try GenerationHarness.problemType(tooWide.body) == "validation-failed")
            #expect((problem["errors"] as? [String: String])?["width"] == "must be at most 2048")
            #expect(tooWide.headers[.contentType] == "application/problem+json")

            let unknown = try await h.post(user, body: GenerationHarness.requestBody(model: "unknown"))
            #expect(unknown.status == .unprocessableContent)
            #expect(try GenerationHarness.problemType(unknown.body) == "unknown-model")
            #expect(h.fakes.calls.withLock { $0.holds.isEmpty })
        }
    }

    @Test func insufficientCreditsIs402AndWritesNoJob() async throws {
        try await GenerationHarness.run { h in
            let user = UserID()
            h.fakes.poor.withLock { _ = $0.insert(user) }
            let response = try await h.post(user)
            #expect(response.status.code == 402)
            #expect(try GenerationHarness.problemType(response.body) == "insufficient-credits")
            let list = try await h.get("/api/v1/generations", user)
            #expect((try GenerationHarness.object(list.body)["items"] as? [Any])?.isEmpty == true)
        }
    }

    @Test func debtIs402CreditsDebtAndWritesNoJob() async throws {
        try await GenerationHarness.run { h in
            let user = UserID()
            h.fakes.indebted.withLock { _ = $0.insert(user) }
            let response = try await h.post(user)
            #expect(response.status.code == 402)
            #expect(try GenerationHarness.problemType(response.body) == "credits-debt")
            #expect(try GenerationHarness.object(response.body)["debt"] as? Int == 40)
            let list = try await h.get("/api/v1/generations", user)
            #expect((try GenerationHarness.object(list.body)["items"] as? [Any])?.isEmpty == true)
        }
    }

    @Test func malformedBodiesAre400() async throws {
        try await GenerationHarness.run { h in
            let user = UserID()
            let broken = try await h.post(user, body: ByteBuffer(string: "{nope"))
            #expect(broken.status == .badRequest)
            #expect(try GenerationHarness.problemType(broken.body) == "invalid-body")
            let wrongType = try await h.post(user, body: ByteBuffer(string: #"{"model":"preview","prompt":"x","width":"wide","height":64,"steps":4,"cfg_scale":7}"#))
            #expect(wrongType.status == .badRequest)
            #expect(try GenerationHarness.problemType(wrongType.body) == "invalid-body")
            #expect(h.fakes.calls.withLock { $0.routes.isEmpty })
        }
    }

    @Test func missingIdentityIs401() async throws {
        try await GenerationHarness.run { h in
            let response = try await h.client.execute(
                uri: "/api/v1/generations", method: .post, headers: [.contentType: "application/json"], body: GenerationHarness.requestBody()
            )
            #expect(response.status == .unauthorized)
        }
    }

    @Test func queuedJobsArePerUserCapped() async throws {
        try await GenerationHarness.run { h in
            let user = UserID()
            for _ in 0..<Plan.free.maxQueuedJobs { #expect(try await h.post(user).status == .accepted) }
            let refused = try await h.post(user)
            #expect(refused.status == .tooManyRequests)
            #expect(try GenerationHarness.problemType(refused.body) == "too-many-jobs")
            #expect(h.fakes.calls.withLock { $0.holds.count } == Plan.free.maxQueuedJobs)
        }
    }
}
