import Core
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import PingvasCrypto
import ServiceKit

extension JobController {
    /// `POST /api/v1/generations`: an `init_image_id` checked with gallery (the caller's, or 422
    /// `invalid-init-image`), validate and price (model-router), hold (user), then job row and
    /// `JobQueued` outbox row in one transaction; 202 `{id, status, queue_position, cost}`.
    @Sendable func create(_ request: Request, context: ServiceRequestContext) async throws -> Response {
        let caller = try CallerIdentity.require(request)
        let key = try Self.idempotencyKey(request)
        var request = request
        let raw = try await request.collectBody(upTo: context.maxUploadSize)
        let body = try await request.decode(as: JobRequest.self, context: context)
        let hook = try await ownWebhook(in: raw)
        switch try await submit(body, for: caller, idempotencyKey: key, webhook: hook, logger: context.logger) {
        case .accepted(let job, let estimate):
            return try JSONResponse(.accepted, AcceptedView(job: job, estimate: estimate), headers: [.location: "/api/v1/generations/\(job.id)"])
                .response(from: request, context: context)
        case .replayed(let response):
            // A replay binds the webhook to the stored job if nothing was bound to it yet (once per job).
            if let hook, let job = Self.replayedJob(response) { try await bind(hook, to: job, user: caller.userID) }
            return response
        }
    }

    /// What `submit` did: a new job, or the stored answer of an earlier request with the same key.
    enum Submission {
        case accepted(Job, JobEstimate?)
        case replayed(Response)
    }

    /// Routes, prices, holds and writes a job for `caller` (with its `JobQueued` outbox row), then
    /// wakes the relay. The same `idempotencyKey` with the same body replays the first answer.
    /// A job's own `webhook` is bound before the job row exists, so no event of a job that finishes
    /// at once can miss it.
    func submit(
        _ body: JobRequest, for caller: CallerIdentity, idempotencyKey key: String?, webhook hook: OwnWebhook? = nil, logger: Logger
    ) async throws -> Submission {
        // Canonical form: decoded and re-encoded with sorted keys, so spacing, key order and unknown
        // fields do not make "the same" request look different.
        let requestHash = SHA256Digest.hex(try WireCodec.encodeBody(body))
        if let key, let stored = try await jobs.idempotentAnswer(user: caller.userID, key: key) {
            return .replayed(try Self.replay(stored, requestHash: requestHash))
        }
        let maxQueued = configuration.maxQueued(for: caller.plan)
        guard try await jobs.queuedCount(user: caller.userID) < maxQueued else { throw Self.tooManyJobs(maxQueued) }

        // Someone else's (or no) image is refused here, before the router prices it and any credit is held.
        let initSize = try await initImageSize(of: body, for: caller)
        let route = try await router.route(RouteRequest(
            userID: caller.userID, plan: caller.plan, request: body, initImageWidth: initSize?.width, initImageHeight: initSize?.height
        ))
        // The style as the router applied it goes with the job (and its recipe); never a client's own.
        var body = body
        body.styledPrompt = route.styledPrompt
        body.styledNegativePrompt = route.styledNegativePrompt
        if body.sampler == nil, let sampler = route.sampler { body.sampler = sampler }
        // An upscale records its factor and its output size (the input's × factor), as the router gave them.
        body.upscaleFactor = route.upscaleFactor
        if route.upscaleFactor != nil, let width = route.width, let height = route.height {
            body.width = width
            body.height = height
        }
        let id = JobID()
        var logger = logger
        logger[metadataKey: "job_id"] = "\(id)"
        logger[metadataKey: "user_id"] = "\(caller.userID)"
        _ = try await ledger.hold(user: caller.userID, job: id, amount: route.cost)

        let newJob = NewJob(
            id: id, userID: caller.userID, request: body, queue: route.queue, plan: caller.plan, priority: configuration.scheduling[caller.plan].priority,
            cost: route.cost, deadlineAt: Date.now.addingTimeInterval(configuration.queueDeadline(for: caller.plan).inSeconds),
            runTimeout: configuration.runTimeout(estimate: route.estimatedSeconds), maxQueued: maxQueued,
            idempotency: key.map { ($0, requestHash) }, estimatedSeconds: route.estimatedSeconds
        )
        // Where the job will stand, as of now (stored with the answer, so a replay says the same).
        let estimate = await estimator.imagine(
            caller.userID, plan: caller.plan, pool: route.queue, request: body, estimate: route.estimatedSeconds
        )
        do {
            if let hook { try await bind(hook, to: id.uuid, user: caller.userID) }
            let queued = try Job.queuedMessage(newJob, enqueuedAt: .now, keys: keys)
            let job = try await jobs.create(newJob, queued: queued) { job in
                IdempotentAnswer(
                    requestHash: requestHash, jobID: job.id, status: 202,
                    body: String(decoding: try WireCodec.encodeBody(AcceptedView(job: job, estimate: estimate)), as: UTF8.self)
                )
            }
            signal.wake()
            logger.info("job queued", metadata: ["queue": "\(job.queue)", "cost": "\(job.cost)"])
            return .accepted(job, estimate)
        } catch {
            await releaseAbandonedHold(id, logger: logger)
            switch error {
            case JobCreationError.queueFull(let limit):
                throw Self.tooManyJobs(limit)
            case JobCreationError.idempotencyKeyTaken:
                if let key, let stored = try await jobs.idempotentAnswer(user: caller.userID, key: key) {
                    return .replayed(try Self.replay(stored, requestHash: requestHash))
                }
                throw error
            default:
                throw error
            }
        }
    }

    /// Releases the hold of a job that was never written; a few quick tries, then it is logged.
    private func releaseAbandonedHold(_ id: JobID, logger: Logger) async {
        for attempt in 1...3 {
            if (try? await ledger.settle(job: id, .release)) != nil { return }
            if attempt < 3 { try? await Task.sleep(for: .milliseconds(200 * attempt)) }
        }
        logger.error("could not release the hold of a job that was not created", metadata: ["job_id": "\(id)"])
    }

    static func idempotencyKey(_ request: Request) throws -> String? {
        guard let key = request.headers[.idempotencyKey] else { return nil }
        guard (1...255).contains(key.utf8.count), key.utf8.allSatisfy({ $0 >= 0x21 && $0 <= 0x7E }) else {
            throw Problem.badRequest("Idempotency-Key must be 1 to 255 visible ASCII characters.", type: "invalid-idempotency-key")
        }
        return key
    }

    static func replay(_ stored: IdempotentAnswer, requestHash: String) throws -> Response {
        guard stored.requestHash == requestHash else {
            throw Problem(
                .unprocessableContent, type: "idempotency-key-reused", title: "Idempotency key reused",
                detail: "This Idempotency-Key was already used with a different request body."
            )
        }
        return Response.json(
            HTTPResponse.Status(code: stored.status), bytes: Array(stored.body.utf8),
            headers: [.location: "/api/v1/generations/\(stored.jobID)"]
        )
    }

    static func tooManyJobs(_ limit: Int) -> Problem {
        Problem(
            .tooManyRequests, type: "too-many-jobs", title: "Too many queued jobs",
            detail: "You already have \(limit) queued generations; wait for one to start.", extensions: ["limit": .int(limit)]
        )
    }
}
