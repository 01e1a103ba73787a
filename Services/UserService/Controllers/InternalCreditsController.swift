import Core
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ServiceKit

/// `/internal/credits/...`: holds, captures, releases and grants, called by generation and
/// payment-webhook (never routed by the gateway). Every call is idempotent.
struct InternalCreditsController<Context: Hummingbird.RequestContext>: Sendable {
    let ledger: any CreditLedgerRepository

    static var maxAmount: Int64 { 1_000_000_000 }

    func addRoutes(to group: RouterGroup<Context>) {
        group.post("holds", use: hold)
        group.post("holds/:job_id/capture", use: capture)
        group.post("holds/:job_id/release", use: release)
        group.post("grants", use: grant)
    }

    struct SettleResponse: Encodable, Sendable {
        var status: String
        var balance: Int64
    }

    struct GrantRequest: Decodable {
        var userID: UserID?
        var amount: Int64?
        var reason: String?
        var reference: String?

        enum CodingKeys: String, CodingKey {
            case amount, reason, reference
            case userID = "user_id"
        }
    }

    struct GrantResponse: Encodable, Sendable {
        var balance: Int64
    }

    @Sendable func hold(_ request: Request, context: Context) async throws -> JSONBody<CreditHoldResponse> {
        let body = try await request.decode(as: CreditHoldRequest.self, context: context)
        let amount = body.amount.value
        guard (1...Self.maxAmount).contains(amount) else {
            throw Problem.validation(["amount": "must be from 1 to \(Self.maxAmount)"])
        }
        switch try await ledger.hold(userID: body.userID, jobID: body.jobID, amount: amount) {
        case .held(let holdID, let balance):
            return JSONBody(.ok, CreditHoldResponse(holdID: holdID, balance: Credits(balance)))
        case .insufficient(let balance):
            throw Problem.insufficientCredits(balance: balance, required: amount)
        case .unknownUser:
            throw Problem.notFound("No credit account for this user.")
        case .mismatch:
            throw Problem.idempotencyConflict("This job id already holds credits for another user or amount.")
        }
    }

    @Sendable func capture(_ request: Request, context: Context) async throws -> JSONBody<SettleResponse> {
        try await settle(request, context: context, capture: true)
    }

    @Sendable func release(_ request: Request, context: Context) async throws -> JSONBody<SettleResponse> {
        try await settle(request, context: context, capture: false)
    }

    private func settle(_ request: Request, context: Context, capture: Bool) async throws -> JSONBody<SettleResponse> {
        guard let jobID = context.parameters.get("job_id").flatMap(JobID.init) else { throw Problem.notFound("No hold for this job.") }
        let outcome = capture ? try await ledger.capture(jobID: jobID) : try await ledger.release(jobID: jobID)
        switch outcome {
        case .settled(let status, let balance):
            return JSONBody(.ok, SettleResponse(status: status, balance: balance))
        case .alreadySettled(let status):
            throw Problem.holdSettled(status: status)
        case .unknownJob:
            throw Problem.notFound("No hold for this job.")
        }
    }

    @Sendable func grant(_ request: Request, context: Context) async throws -> JSONBody<GrantResponse> {
        let body = try await request.decode(as: GrantRequest.self, context: context)
        var errors: [String: String] = [:]
        if body.userID == nil { errors["user_id"] = "is required" }
        if let amount = body.amount {
            if !(1...Self.maxAmount).contains(amount) { errors["amount"] = "must be from 1 to \(Self.maxAmount)" }
        } else {
            errors["amount"] = "is required"
        }
        let reason = body.reason?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        if !(1...200).contains(reason.count) { errors["reason"] = reason.isEmpty ? "is required" : "must be at most 200 characters" }
        let reference = body.reference ?? ""
        if !(1...200).contains(reference.count) { errors["reference"] = reference.isEmpty ? "is required" : "must be at most 200 characters" }
        guard errors.isEmpty, let userID = body.userID, let amount = body.amount else { throw Problem.validation(errors) }

        switch try await ledger.grant(userID: userID, amount: amount, reason: reason, reference: reference) {
        case .granted(let balance):
            context.logger.info("credits granted", metadata: ["user_id": "\(userID)", "amount": "\(amount)", "reference": "\(reference)"])
            return JSONBody(.ok, GrantResponse(balance: balance))
        case .unknownUser:
            throw Problem.notFound("No credit account for this user.")
        case .mismatch:
            throw Problem.idempotencyConflict("This reference was already used for another user or amount.")
        }
    }
}
