import Core
import Foundation
import HTTPTypes
import Hummingbird
import ServiceKit

/// `GET /api/v1/me`, `GET /api/v1/me/credits`, `POST /api/v1/me/password` and `DELETE /api/v1/me`
/// for the caller the gateway vouched for.
struct MeController<Context: Hummingbird.RequestContext>: Sendable {
    let users: any UserRepository
    let ledger: any CreditLedgerRepository
    let passwords: PasswordService
    let refreshTokens: any RefreshTokenRepository
    /// `DELETE /api/v1/me`; nil answers 503.
    var deletion: AccountDeletion?

    static var defaultLimit: Int { 50 }
    static var maxLimit: Int { 100 }

    var routes: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get(use: me)
        routes.get("credits", use: credits)
        routes.post("password", use: changePassword)
        routes.delete(use: deleteAccount)
        return routes
    }

    struct MeResponse: Encodable, Sendable {
        var id: String
        var email: String
        var displayName: String
        var roles: [String]
        var plan: String
        var credits: Int64
        /// Credits a refund took back beyond the balance; new jobs are refused while above zero.
        var creditDebt: Int64

        enum CodingKeys: String, CodingKey {
            case id, email, roles, plan, credits
            case displayName = "display_name"
            case creditDebt = "credit_debt"
        }
    }

    struct EntryResponse: Encodable, Sendable {
        var id: String
        var amount: Int64
        var debtChange: Int64
        var kind: String
        var reason: String?
        var reference: String?
        var jobID: String?
        var createdAt: Date

        enum CodingKeys: String, CodingKey {
            case id, amount, kind, reason, reference
            case debtChange = "debt_change"
            case jobID = "job_id"
            case createdAt = "created_at"
        }

        init(_ entry: LedgerEntry) {
            id = String(entry.id)
            amount = entry.amount
            debtChange = entry.debtChange
            kind = entry.kind
            reason = entry.reason
            reference = entry.reference
            jobID = entry.jobID?.description
            createdAt = entry.createdAt
        }

        /// Nulls are written out, so every entry has the same keys.
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(amount, forKey: .amount)
            try container.encode(debtChange, forKey: .debtChange)
            try container.encode(kind, forKey: .kind)
            try container.encode(reason, forKey: .reason)
            try container.encode(reference, forKey: .reference)
            try container.encode(jobID, forKey: .jobID)
            try container.encode(createdAt, forKey: .createdAt)
        }
    }

    struct CreditsResponse: Encodable, Sendable {
        var balance: Int64
        var debt: Int64
        var entries: [EntryResponse]
        var nextCursor: String?

        enum CodingKeys: String, CodingKey {
            case balance, debt, entries
            case nextCursor = "next_cursor"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(balance, forKey: .balance)
            try container.encode(debt, forKey: .debt)
            try container.encode(entries, forKey: .entries)
            try container.encode(nextCursor, forKey: .nextCursor)
        }
    }

    @Sendable func me(_ request: Request, context: Context) async throws -> JSONResponse<MeResponse> {
        let caller = try CallerIdentity.require(request)
        guard let user = try await users.find(id: caller.userID) else { throw Problem.notFound("The user no longer exists.") }
        let account = try await ledger.account(userID: user.id) ?? CreditAccount(balance: 0, debt: 0)
        return JSONResponse(.ok, MeResponse(
            id: user.id.description, email: user.email, displayName: user.displayName,
            roles: user.roles, plan: user.plan.rawValue, credits: account.balance, creditDebt: account.debt))
    }

    @Sendable func credits(_ request: Request, context: Context) async throws -> JSONResponse<CreditsResponse> {
        let caller = try CallerIdentity.require(request)
        let query = request.uri.queryParameters
        var errors: [String: String] = [:]
        var limit = Self.defaultLimit
        if let raw = query.get("limit") {
            if let value = Int(raw), (1...Self.maxLimit).contains(value) { limit = value } else { errors["limit"] = "must be an integer from 1 to \(Self.maxLimit)" }
        }
        var before: Int64?
        if let raw = query.get("cursor"), !raw.isEmpty {
            if let value = Int64(raw), value > 0 { before = value } else { errors["cursor"] = "is not a cursor from a previous page" }
        }
        guard errors.isEmpty else { throw Problem.validation(errors) }

        guard let account = try await ledger.account(userID: caller.userID) else { throw Problem.notFound("The user no longer exists.") }
        // One extra row tells whether another page follows.
        let page = try await ledger.entries(userID: caller.userID, before: before, limit: limit + 1)
        let entries = Array(page.prefix(limit))
        let nextCursor = page.count > limit ? entries.last.map { String($0.id) } : nil
        return JSONResponse(.ok, CreditsResponse(balance: account.balance, debt: account.debt, entries: entries.map(EntryResponse.init), nextCursor: nextCursor))
    }
}
