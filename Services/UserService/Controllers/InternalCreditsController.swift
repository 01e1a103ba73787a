import Core
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ServiceKit

/// `/internal/credits/...`: holds, captures, releases, grants and debits, called by generation and
/// payment-webhook (never routed by the gateway). Every call is idempotent.
struct InternalCreditsController<Context: Hummingbird.RequestContext>: Sendable {
    let ledger: any CreditLedgerRepository

    static var maxAmount: Int64 { 1_000_000_000 }

    var routes: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.post("holds", use: hold)
        routes.post("holds/:job_id/capture", use: capture)
        routes.post("holds/:job_id/release", use: release)
        routes.post("grants", use: grant)
        routes.post("debits", use: debit)
        return routes
    }

    struct SettleResponse: Encodable, Sendable {
        var status: String
        var balance: Int64
    }

    /// Body of grants and debits: `{user_id, amount, reason, reference}`.
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

    /// Answer of grants and debits: the account after the call, and for a new debit what became debt.
    struct GrantResponse: Encodable, Sendable {
        var balance: Int64
        var debt: Int64
        var shortfall: Int64?

        init(_ account: CreditAccount, shortfall: Int64? = nil) {
            balance = account.balance
            debt = account.debt
            self.shortfall = shortfall
        }
    }

    @Sendable func hold(_ request: Request, context: Context) async throws -> JSONResponse<CreditHoldResponse> {
        let body = try await request.decode(as: CreditHoldRequest.self, context: context)
        let amount = body.amount.value
        guard (1...Self.maxAmount).contains(amount) else {
            throw Problem.validation(["amount": "must be from 1 to \(Self.maxAmount)"])
        }
        switch try await ledger.hold(userID: body.userID, jobID: body.jobID, amount: amount) {
        case .held(let holdID, let balance):
            return JSONResponse(.ok, CreditHoldResponse(holdID: holdID, balance: Credits(balance)))
        case .insufficient(let balance):
            throw Problem.insufficientCredits(balance: balance, required: amount)
        case .inDebt(let debt, let balance):
            throw Problem.creditsDebt(debt: debt, balance: balance)
        case .unknownUser:
            throw Problem.notFound("No credit account for this user.")
        case .mismatch:
            throw Problem.idempotencyConflict("This job id already holds credits for another user or amount.")
        }
    }

    @Sendable func capture(_ request: Request, context: Context) async throws -> JSONResponse<SettleResponse> {
        try await settle(request, context: context, capture: true)
    }

    @Sendable func release(_ request: Request, context: Context) async throws -> JSONResponse<SettleResponse> {
        try await settle(request, context: context, capture: false)
    }

    private func settle(_ request: Request, context: Context, capture: Bool) async throws -> JSONResponse<SettleResponse> {
        guard let jobID = context.parameters.get("job_id").flatMap(JobID.init) else { throw Problem.notFound("No hold for this job.") }
        let outcome = capture ? try await ledger.capture(jobID: jobID) : try await ledger.release(jobID: jobID)
        switch outcome {
        case .settled(let status, let balance):
            return JSONResponse(.ok, SettleResponse(status: status, balance: balance))
        case .alreadySettled(let status):
            throw Problem.holdSettled(status: status)
        case .unknownJob:
            throw Problem.notFound("No hold for this job.")
        }
    }

    @Sendable func grant(_ request: Request, context: Context) async throws -> JSONResponse<GrantResponse> {
        let (userID, amount, reason, reference) = try await Self.validated(request, context: context)
        switch try await ledger.grant(userID: userID, amount: amount, reason: reason, reference: reference) {
        case .granted(let account):
            context.logger.info("credits granted", metadata: ["user_id": "\(userID)", "amount": "\(amount)", "reference": "\(reference)"])
            return JSONResponse(.ok, GrantResponse(account))
        case .unknownUser:
            throw Problem.notFound("No credit account for this user.")
        case .mismatch:
            throw Problem.idempotencyConflict("This reference was already used for another user or amount.")
        }
    }

    /// `POST /internal/credits/debits`: takes credits back (a refunded payment). What the balance
    /// cannot cover becomes debt; a repeat with the same reference takes nothing more.
    @Sendable func debit(_ request: Request, context: Context) async throws -> JSONResponse<GrantResponse> {
        let (userID, amount, reason, reference) = try await Self.validated(request, context: context)
        switch try await ledger.debit(userID: userID, amount: amount, reason: reason, reference: reference) {
        case .debited(let account, let shortfall):
            if let shortfall {
                context.logger.notice(
                    "credits taken back",
                    metadata: ["user_id": "\(userID)", "amount": "\(amount)", "reference": "\(reference)", "shortfall": "\(shortfall)"]
                )
            }
            return JSONResponse(.ok, GrantResponse(account, shortfall: shortfall))
        case .unknownUser:
            throw Problem.notFound("No credit account for this user.")
        case .mismatch:
            throw Problem.idempotencyConflict("This reference was already used for another user or amount.")
        }
    }

    /// The fields of a grant or debit body, or 422 naming each bad one.
    static func validated(_ request: Request, context: Context) async throws -> (UserID, Int64, String, String) {
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
        return (userID, amount, reason, reference)
    }
}
