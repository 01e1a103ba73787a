import Core
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import PingvasCrypto
import RedisClient
import ServiceKit

/// `/api/v1/generations`: create, read, list, cancel, and follow jobs (the gateway forwards the full path).
struct JobController: Sendable {
    let jobs: any JobRepository
    let router: any ModelRouting
    let ledger: any CreditLedger
    let settler: CreditSettler
    let notifier: JobNotifier
    let redis: RedisPool
    let subscriber: RedisSubscriber
    let queue: RedisJobQueue
    /// Wakes the outbox relay once a new job is committed.
    let signal: OutboxSignal
    /// Queue positions and ETAs.
    let estimator: QueueEstimator
    let configuration: GenerationConfiguration
    let logger: Logger
    /// Per-job webhooks (`webhook` on a submission); nil: such submissions answer 503.
    var ownWebhooks: OwnWebhooks?
    /// gallery, asked whether an `init_image_id` is the caller's; nil: such submissions answer 503.
    var initImages: (any InitImageLookup)?

    var keys: PipelineKeys { configuration.keys }

    /// Mounted at `/api/v1/generations`.
    var routes: RouteCollection<ServiceRequestContext> {
        let routes = RouteCollection(context: ServiceRequestContext.self)
        routes.post(use: create)
        routes.get(use: list)
        routes.get("{id}", use: show)
        routes.post("{id}/cancel", use: cancel)
        routes.get("{id}/events", use: events)
        return routes
    }

    @Sendable func show(_ request: Request, context: ServiceRequestContext) async throws -> Response {
        let caller = try CallerIdentity.require(request)
        let job = try await ownedJob(context, caller)
        return try ETaggedJSON.response(JobView(job: job, estimate: await estimator.estimate(for: job)), request: request)
    }

    @Sendable func list(_ request: Request, context: ServiceRequestContext) async throws -> JSONResponse<JobPage> {
        let caller = try CallerIdentity.require(request)
        return JSONResponse(.ok, try await page(of: caller.userID, request: request))
    }

    /// One page of `user`'s jobs, newest first, from the request's `?limit=&cursor=` (400
    /// `invalid-query` or `invalid-cursor`): the owner's list and the admin's view of it.
    func page(of user: UserID, request: Request) async throws -> JobPage {
        let query = request.uri.queryParameters
        var limit = 20
        if let raw = query.get("limit") {
            guard let value = Int(raw), (1...100).contains(value) else {
                throw Problem.badRequest("limit must be an integer from 1 to 100.", type: "invalid-query")
            }
            limit = value
        }
        var before: Int64?
        if let raw = query.get("cursor"), !raw.isEmpty {
            guard let sequence = PageCursor.decode(raw) else {
                throw Problem.badRequest("The cursor is not one this API returned.", type: "invalid-cursor")
            }
            before = sequence
        }
        let found = try await jobs.jobs(user: user, before: before, limit: limit + 1)
        let page = Array(found.prefix(limit))
        let next = found.count > limit ? page.last.map { PageCursor.encode($0.sequence) } : nil
        let estimates = await estimator.estimates(for: page)
        return JobPage(items: page.map { JobView(job: $0, estimate: estimates[$0.id]) }, nextCursor: next)
    }

    @Sendable func cancel(_ request: Request, context: ServiceRequestContext) async throws -> JSONResponse<JobView> {
        let caller = try CallerIdentity.require(request)
        var job = try await ownedJob(context, caller)
        guard !job.status.isTerminal else { throw Self.finished(job) }
        // The key goes first: whatever state the job is in a moment later, the worker will skip or stop it.
        do {
            _ = try await redis.send("SET", keys.canceled(job.id), "1", "EX", "86400")
        } catch {
            context.logger.warning("could not set the cancel key", metadata: ["job_id": "\(job.id)", "error": "\(error)"])
            throw Problem.unavailable("Cancelling is unavailable right now; try again later.", type: "dependency-unavailable")
        }
        if job.status == .queued {
            let keys = keys
            let traceparent = Core.RequestContext.traceparent
            let change = JobCompletion(status: .canceled, error: .canceled, settlement: .release)
            if let canceled = try await jobs.finish(
                id: job.id, change: change, attempt: nil, owner: caller.userID, onlyQueued: true,
                completed: { try $0.completedMessage(keys: keys, traceparent: traceparent) }
            ) {
                context.logger.info("job canceled", metadata: ["job_id": "\(job.id)"])
                // Out of the queue now (the cancel key makes a worker skip it should the removal fail).
                _ = try? await queue.remove(job.id)
                signal.wake()
                await notifier.statusChanged(canceled)
                await settler.settle(canceled.id, .release)
                return JSONResponse(.ok, JobView(job: canceled))
            }
            // A worker took it meanwhile (or it finished): answer for the state it is in now.
            job = try await ownedJob(context, caller)
            guard !job.status.isTerminal else { throw Self.finished(job) }
        }
        return JSONResponse(.accepted, JobView(job: job, estimate: await estimator.estimate(for: job)))
    }

    /// The job named in the path if the caller owns it; 404 otherwise (never 403, so ids do not leak).
    func ownedJob(_ context: ServiceRequestContext, _ caller: CallerIdentity) async throws -> Job {
        guard let raw = context.parameters.get("id"), let id = JobID(raw),
              let job = try await jobs.job(id: id), job.userID == caller.userID
        else { throw Problem.notFound("No such generation.") }
        return job
    }

    static func finished(_ job: Job) -> Problem {
        Problem.conflict("The generation already \(job.status.rawValue).", type: "job-finished")
    }
}

/// Opaque list cursors: base64url of `j<sequence>`.
enum PageCursor {
    static func encode(_ sequence: Int64) -> String {
        Data("j\(sequence)".utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ cursor: String) -> Int64? {
        guard cursor.utf8.count <= 64 else { return nil }
        var base64 = cursor.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.utf8.count % 4) % 4)
        guard let data = Data(base64Encoded: base64), let text = String(data: data, encoding: .utf8), text.hasPrefix("j"),
              let sequence = Int64(text.dropFirst()), sequence > 0
        else { return nil }
        return sequence
    }
}
