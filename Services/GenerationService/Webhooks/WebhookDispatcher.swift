import Core
import Foundation
import HTTPClient
import Logging
import ServiceKit
import ServiceLifecycle

/// Sends users' completion webhooks: finds finished jobs owed to endpoints (at most one delivery
/// per endpoint and job), then sends due deliveries signed per Standard Webhooks.
///
/// A 2xx marks a delivery `delivered` and it is never sent again; anything else (another status, a
/// timeout, a refused target) is retried after `retryBase` × 4^(attempt-1) (5 s base: 5 s, 20 s,
/// 80 s, ... about 30 hours over 9 attempts), then `failed`. Every attempt of a delivery carries the
/// same `webhook-id` and body, so receivers can drop duplicates. An endpoint whose attempts have all
/// failed for `disableAfter` is disabled: nothing more is queued or sent for it, and its owner sees
/// `disabled` on it until they enable it again. A job's own webhook (`webhook`) is an endpoint
/// bound to that job, signed with the owner's per-job signing secret. Redirects are not followed and the
/// target's addresses are checked again before each attempt (`WebhookTarget`), and the attempt
/// connects to those addresses only.
struct WebhookDispatcher: Service {
    let webhooks: any WebhookRepository
    let jobs: any JobRepository
    let http: CurlHTTPClient
    let target: WebhookTarget
    let interval: Duration
    let retryBase: Duration
    var maxAttempts = 9
    /// An endpoint whose every attempt has failed for this long is disabled (its owner sees
    /// `disabled` on it and enables it again); longer than a delivery's whole retry schedule.
    var disableAfter: Duration = .seconds(3 * 24 * 3600)
    let ready: @Sendable () -> Bool
    let logger: Logger

    func run() async throws {
        WebhookMetrics.prepare()
        guard await Background.waitUntil(ready) else { return }
        while !Background.shouldStop {
            do {
                _ = try await webhooks.enqueueFinishedJobs()
                let due = try await webhooks.claimDue(limit: 16, hold: .seconds(60))
                await withTaskGroup(of: Void.self) { group in
                    for delivery in due { group.addTask { await send(delivery) } }
                }
                if due.count == 16 { continue }
            } catch {
                logger.warning("webhook dispatch failed", metadata: ["error": "\(error)"])
            }
            await Background.pause(interval)
        }
    }

    func send(_ delivery: DueDelivery) async {
        var metadata: Logger.Metadata = ["delivery_id": "\(delivery.id)", "job_id": "\(delivery.jobID)", "attempt": "\(delivery.attempts + 1)"]
        do {
            let body = try await bodyOf(delivery)
            var statusCode: Int?
            var failure: String?
            var duration: Duration?
            switch await target.check(delivery.url) {
            case .refused(let reason):
                failure = "target refused: the URL \(reason)"
            case .allowed(let pinned):
                let timestamp = Int(Date().timeIntervalSince1970)
                var headers = HTTPHeaders(WebhookSigner.headers(secret: delivery.secret, id: delivery.id.uuidString.lowercased(), timestamp: timestamp, body: Array(body.utf8)))
                headers.add(name: "Content-Type", value: "application/json")
                headers.add(name: "User-Agent", value: "Pingvas-Webhooks/1")
                let started = ContinuousClock.now
                do {
                    // To the addresses just checked, not to a fresh DNS answer.
                    let response = try await http.execute(HTTPClientRequest(
                        method: "POST", url: delivery.url, headers: headers, body: Array(body.utf8), timeout: .seconds(15), pinnedAddresses: pinned
                    ))
                    statusCode = response.status
                    if !(200..<300).contains(response.status) { failure = "answered \(response.status)" }
                } catch {
                    failure = "\(error)"
                }
                duration = ContinuousClock.now - started
            }
            let attempt = delivery.attempts + 1
            let retryAfter: Duration? = failure == nil || attempt >= maxAttempts ? nil : retryBase * Int(pow(4, Double(attempt - 1)))
            let disabled = try await webhooks.record(
                delivery.id, statusCode: statusCode, error: failure.map { String($0.prefix(300)) }, delivered: failure == nil,
                retryAfter: retryAfter, disableAfter: disableAfter
            )
            WebhookMetrics.attempt(outcome: failure == nil ? "delivered" : retryAfter == nil ? "failed" : "retry", duration: duration)
            if disabled { logger.notice("webhook endpoint disabled: failing for too long", metadata: metadata) }
            metadata["status_code"] = "\(statusCode.map(String.init) ?? "none")"
            if let failure {
                metadata["error"] = "\(failure)"
                logger.info(retryAfter == nil ? "webhook delivery failed for good" : "webhook delivery failed; will retry", metadata: metadata)
            } else {
                logger.info("webhook delivered", metadata: metadata)
            }
        } catch {
            metadata["error"] = "\(error)"
            logger.warning("webhook delivery not recorded; it is sent again when its hold ends", metadata: metadata)
        }
    }

    /// The body of every attempt: `{type, timestamp, data}` with the job as the public API shows it, fixed at the first attempt.
    func bodyOf(_ delivery: DueDelivery) async throws -> String {
        if let body = delivery.body { return body }
        guard let job = try await jobs.job(id: JobID(uuid: delivery.jobID)) else { throw WebhookDispatchError.jobMissing }
        let payload = Payload(type: delivery.event, timestamp: Date(), data: JobView(job: job))
        return try await webhooks.fixBody(delivery.id, body: String(decoding: try WireCodec.encodeBody(payload), as: UTF8.self))
    }

    struct Payload: Encodable, Sendable {
        var type: String
        var timestamp: Date
        var data: JobView
    }
}

enum WebhookDispatchError: Error {
    case jobMissing
}
