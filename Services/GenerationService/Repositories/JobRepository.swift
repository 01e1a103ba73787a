import Core
import Foundation

/// The jobs generation owns, with the outbox rows their changes must tell other services about.
///
/// Every state change that another service must hear of writes its outbox row in the same
/// transaction. Changes are conditional on the current status, so applying one twice changes nothing.
protocol JobRepository: Sendable {
    /// The answer stored for `key` of `user` by an earlier create, or nil.
    func idempotentAnswer(user: UserID, key: String) async throws -> IdempotentAnswer?

    /// How many of `user`'s jobs are queued.
    func queuedCount(user: UserID) async throws -> Int

    /// Inserts `job` (queued) with an outbox row for `queued` on `stream` and, when the job carries an
    /// idempotency key, the answer `answer` builds; all in one transaction.
    ///
    /// Throws `JobCreationError.queueFull` when the user already has `maxQueued` queued jobs and
    /// `.idempotencyKeyTaken` when another request stored the key first; nothing is written then.
    func create(
        _ job: NewJob, queued: OutboxMessage, answer: @Sendable (Job) throws -> IdempotentAnswer
    ) async throws -> Job

    /// The job with `id`, whoever owns it.
    func job(id: JobID) async throws -> Job?

    /// `user`'s jobs newest first, those older than `before` (a `Job.sequence`) when given.
    func jobs(user: UserID, before: Int64?, limit: Int) async throws -> [Job]

    /// queued → running for `attempt` (or running → running for a later attempt: a takeover); nil
    /// when the job is unknown, finished, or already at that attempt.
    func markStarted(id: JobID, attempt: Int, worker: String, at: Date) async throws -> Job?

    /// unfinished at `attempt` → queued for attempt + 1 with `retries + 1` and `error` as the last
    /// error, with the outbox row `queued` builds; nil when the job is not at `attempt` any more.
    func retry(id: JobID, attempt: Int, error: JobError, queued: @Sendable (Job) throws -> OutboxMessage) async throws -> Job?

    /// queued or running → queued (a running one for its next attempt) with the outbox row `queued`
    /// builds, because Redis no longer holds the job; nil when it finished or changed since `changedBefore`.
    func requeueLost(id: JobID, changedBefore: Date, queued: @Sendable (Job) throws -> OutboxMessage) async throws -> Job?

    /// A page of the unfinished jobs unchanged since `before`, in (changed_at, id) order after
    /// `cursor` (nil: from the oldest): the reconciler walks them all, page by page, and checks Redis
    /// holds them, so a backlog longer than a page is checked as well as its oldest page.
    func unfinished(changedBefore before: Date, after cursor: UnfinishedCursor?, limit: Int) async throws -> [UnfinishedCursor]

    /// Queued jobs whose queue deadline passed.
    func expired(now: Date, limit: Int) async throws -> [Job]

    /// Running jobs past their run timeout plus `grace`.
    func overran(now: Date, grace: Duration, limit: Int) async throws -> [Job]

    /// queued or running → `change.status`, with the outbox row `completed` builds, once.
    ///
    /// `attempt` (when given) must not be older than the job's; `owner` (when given) must own it;
    /// `onlyQueued` restricts the change to a queued job (cancel). Nil when nothing changed.
    func finish(
        id: JobID, change: JobCompletion, attempt: Int?, owner: UserID?, onlyQueued: Bool,
        completed: @Sendable (Job) throws -> OutboxMessage
    ) async throws -> Job?

    /// Finished jobs whose hold was not captured or released yet, oldest first; only those finished
    /// `unsettledGrace` ago or more, so the retry loop does not settle a job a second time while the
    /// call that finished it is still settling it.
    func unsettled(limit: Int) async throws -> [(id: JobID, settlement: Settlement)]

    /// Records that the hold of `id` was captured or released.
    func markSettled(id: JobID) async throws
}

/// The terminal state a job moves to.
struct JobCompletion: Sendable {
    var status: JobStatus
    var images: [ProducedImage] = []
    var error: JobError?
    var settlement: Settlement
}

/// What a create with an `Idempotency-Key` answered, replayed for the same key and body.
struct IdempotentAnswer: Sendable, Equatable {
    var requestHash: String
    var jobID: JobID
    var status: Int
    var body: String
}

/// A message to put on a Redis stream through the outbox.
struct OutboxMessage: Sendable, Equatable {
    var stream: String
    var envelope: [UInt8]
}

enum JobCreationError: Error, Equatable {
    case queueFull(limit: Int)
    case idempotencyKeyTaken
}

/// Where the reconciler's walk over unfinished jobs is: a job and its `changed_at`, kept as
/// PostgreSQL's text for it, so the next page starts exactly after it.
struct UnfinishedCursor: Sendable, Equatable {
    var id: JobID
    var changedAt: String
}
