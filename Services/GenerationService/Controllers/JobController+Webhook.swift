import Core
import Foundation
import HTTPTypes
import Hummingbird
import ServiceKit

/// A job's own completion webhook: `webhook` (and optionally `webhook_events`) on a submission,
/// named as Replicate names them.
/// The URL is checked like a registered endpoint's (public addresses only) before anything is held
/// or written; the events of that job alone are sent to it, signed per Standard Webhooks with the
/// owner's per-job signing secret (`GET /api/v1/webhooks/default/secret`).
extension JobController {
    struct OwnWebhook: Sendable, Equatable {
        var url: String
        var events: [WebhookEvent]
    }

    private struct OwnWebhookFields: Decodable {
        var webhookURL: String?
        var webhookEvents: [String]?

        enum CodingKeys: String, CodingKey {
            case webhookURL = "webhook"
            case webhookEvents = "webhook_events"
        }
    }

    /// The submission's own webhook, nil without `webhook`; 400 for fields of the wrong type,
    /// 422 for a URL or events that cannot be used.
    func ownWebhook(in body: ByteBuffer) async throws -> OwnWebhook? {
        guard let fields = try? JSONDecoder().decode(OwnWebhookFields.self, from: Data(body.readableBytesView)) else {
            throw Problem.badRequest("webhook must be a string and webhook_events a list of event names.", type: "invalid-body")
        }
        guard let url = fields.webhookURL else {
            if fields.webhookEvents != nil { throw Problem.validation(["webhook": "is required with webhook_events"]) }
            return nil
        }
        guard let ownWebhooks else { throw Problem.unavailable("Per-job webhooks are not configured here.") }
        var errors: [String: String] = [:]
        var events = WebhookEvent.allCases
        if let names = fields.webhookEvents {
            let parsed = names.compactMap(WebhookEvent.init(rawValue:))
            if names.isEmpty || parsed.count != names.count {
                errors["webhook_events"] = "a non-empty list of " + WebhookEvent.allCases.map(\.rawValue).joined(separator: ", ")
            } else {
                events = WebhookEvent.allCases.filter(parsed.contains)
            }
        }
        if let problem = await ownWebhooks.target.problem(with: url) { errors["webhook"] = problem }
        guard errors.isEmpty else { throw Problem.validation(errors) }
        return OwnWebhook(url: url, events: events)
    }

    /// Binds `hook` to the job (once: a replay of the submission binds nothing new).
    func bind(_ hook: OwnWebhook, to job: UUID, user: UserID) async throws {
        guard let ownWebhooks else { return }
        try await ownWebhooks.repository.createJobWebhook(job: job, user: user.uuid, url: hook.url, events: hook.events)
    }

    /// The job a replayed answer is about (its `Location`).
    static func replayedJob(_ response: Response) -> UUID? {
        response.headers[.location].flatMap { $0.split(separator: "/").last }.flatMap { UUID(uuidString: String($0)) }
    }
}

/// What per-job webhooks need: where they are stored and which targets are allowed.
struct OwnWebhooks: Sendable {
    let repository: any WebhookRepository
    let target: WebhookTarget
}
