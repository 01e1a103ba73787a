import Core
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ServiceKit

/// The dead-letter list of the job queue, for admins (role `admin`): jobs that every worker taking
/// them stopped answering for (`worker_lost`), per pool, newest first; and a requeue that submits
/// the job again for its owner as a new generation (new id, new hold), once per dead job; and any
/// user's jobs (`?user_id=`), as their owner sees them.
struct AdminJobController: Sendable {
    let jobs: any JobRepository
    let queue: RedisJobQueue
    let submitter: JobController

    /// Mounted at `/api/v1/admin/jobs`.
    var routes: RouteCollection<ServiceRequestContext> {
        let routes = RouteCollection(context: ServiceRequestContext.self)
        routes.get(use: userJobs)
        routes.get("dead", use: dead)
        routes.post("{id}/requeue", use: requeue)
        return routes
    }

    struct DeadJobView: Encodable, Sendable {
        var id: JobID
        var pool: String
        var userID: UserID
        var model: String
        var deliveries: Int
        var diedAt: Date?
        /// The job as generation has it (`failed` with `worker_lost` once the reconciler saw it).
        var status: JobStatus?
        var error: JobError?

        enum CodingKeys: String, CodingKey {
            case id, pool, model, deliveries, status, error
            case userID = "user_id"
            case diedAt = "died_at"
        }
    }

    struct DeadJobList: Encodable, Sendable {
        var items: [DeadJobView]
    }

    struct Requeued: Encodable, Sendable {
        var id: JobID
        var status: JobStatus
        var requeuedFrom: JobID

        enum CodingKeys: String, CodingKey {
            case id, status
            case requeuedFrom = "requeued_from"
        }
    }

    @Sendable func dead(_ request: Request, context: ServiceRequestContext) async throws -> JSONResponse<DeadJobList> {
        try CallerIdentity.requireAdmin(request, to: "list or requeue dead jobs")
        var items: [DeadJobView] = []
        for pool in try await queue.pools() {
            for entry in try await queue.dead(pool: pool) {
                let job = try await jobs.job(id: entry.jobID)
                items.append(DeadJobView(
                    id: entry.jobID, pool: pool, userID: entry.userID, model: entry.model, deliveries: entry.deliveries,
                    diedAt: entry.diedAt, status: job?.status, error: job?.error
                ))
            }
        }
        items.sort { ($0.diedAt ?? .distantPast) > ($1.diedAt ?? .distantPast) }
        return JSONResponse(.ok, DeadJobList(items: items))
    }

    @Sendable func requeue(_ request: Request, context: ServiceRequestContext) async throws -> JSONResponse<Requeued> {
        let admin = try CallerIdentity.requireAdmin(request, to: "list or requeue dead jobs")
        guard let raw = context.parameters.get("id"), let id = JobID(raw), let job = try await jobs.job(id: id) else {
            throw Problem.notFound("No such generation.")
        }
        guard job.status == .failed, job.error?.code == JobError.workerLost.code else {
            throw Problem.conflict("Only a generation that failed with worker_lost can be requeued.", type: "not-requeueable")
        }
        let owner = CallerIdentity(userID: job.userID, plan: job.plan)
        let submitted = try await submitter.submit(job.request.asSubmitted, for: owner, idempotencyKey: "requeue:\(job.id)", logger: context.logger)
        let newID: JobID
        switch submitted {
        case .accepted(let created, _): newID = created.id
        case .replayed: newID = try await jobs.idempotentAnswer(user: job.userID, key: "requeue:\(job.id)")?.jobID ?? job.id
        }
        _ = try await queue.remove(job.id)  // off the dead list
        context.logger.notice("dead job requeued", metadata: ["job_id": "\(job.id)", "new_job_id": "\(newID)", "admin": "\(admin.userID)"])
        return JSONResponse(.accepted, Requeued(id: newID, status: .queued, requeuedFrom: job.id))
    }
}
