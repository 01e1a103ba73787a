import Core
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import RedisClient
import ServiceKit

/// `/api/v1/admin/users` and `/api/v1/admin/audit`: finding users, their ledger, credit grants and
/// take-backs with a reason, suspension and restoration. Admin role only (from the signed
/// identity); every change writes an audit row with the state before and after.
///
/// Suspension is stored on the user row and published as `PipelineKeys.suspended` in Redis, which
/// the gateway checks on every authenticated request, so the user's access tokens and API keys stop
/// working at once; login, refresh and API-key look-ups refuse a suspended user here too.
struct AdminController<Context: Hummingbird.RequestContext>: Sendable {
    let admin: any AdminRepository
    let ledger: any CreditLedgerRepository
    let redis: RedisPool
    let keys: PipelineKeys

    var routes: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get("users", use: findUsers)
        routes.get("users/:id", use: showUser)
        routes.post("users/:id/credits", use: adjustCredits)
        routes.post("users/:id/suspend", use: suspend)
        routes.post("users/:id/restore", use: restore)
        routes.get("audit", use: auditLog)
        return routes
    }

    struct UsersResponse: Encodable, Sendable {
        var items: [AdminUserRecord]
    }

    struct UserResponse: Encodable, Sendable {
        var user: AdminUserRecord
        var ledger: [MeController<Context>.EntryResponse]
    }

    struct CreditsRequest: Decodable {
        var amount: Int64?
        var reason: String?
    }

    struct ReasonRequest: Decodable {
        var reason: String?
    }

    typealias AuditResponse = CursorPage<AdminAuditEntry>

    @Sendable func findUsers(_ request: Request, context: Context) async throws -> JSONResponse<UsersResponse> {
        try CallerIdentity.requireAdmin(request, to: "look users up")
        let query = (request.uri.queryParameters.get("q") ?? "").trimmingCharacters(in: .whitespaces)
        // PostgreSQL text cannot hold NUL: bad input, never a 500.
        if query.count > 200 || query.unicodeScalars.contains("\0") { throw Problem.validation(["q": "at most 200 characters, no NUL"]) }
        let limit = try Self.limit(request, default: 50, max: 200)
        return JSONResponse(.ok, UsersResponse(items: try await admin.findUsers(matching: query, limit: limit)))
    }

    @Sendable func showUser(_ request: Request, context: Context) async throws -> JSONResponse<UserResponse> {
        try CallerIdentity.requireAdmin(request, to: "look users up")
        let id = try Self.userID(context)
        guard let user = try await admin.user(id: id) else { throw Problem.notFound("No such user.") }
        let entries = try await ledger.entries(userID: id, before: nil, limit: 100)
        return JSONResponse(.ok, UserResponse(user: user, ledger: entries.map(MeController<Context>.EntryResponse.init)))
    }

    @Sendable func adjustCredits(_ request: Request, context: Context) async throws -> JSONResponse<AdminUserRecord> {
        let caller = try CallerIdentity.requireAdmin(request, to: "grant or take credits")
        let id = try Self.userID(context)
        let body = try await request.decode(as: CreditsRequest.self, context: context)
        var errors: [String: String] = [:]
        if body.amount == nil || body.amount == 0 || abs(body.amount ?? 0) > 10_000_000 { errors["amount"] = "a non-zero integer, at most 10000000 either way" }
        let reason = Self.reason(body.reason, into: &errors)
        guard errors.isEmpty, let amount = body.amount else { throw Problem.validation(errors) }
        guard let before = try await admin.user(id: id) else { throw Problem.notFound("No such user.") }
        let reference = "admin:\(UUID().uuidString.lowercased())"
        let unknown: Bool
        if amount > 0 {
            unknown = try await ledger.grant(userID: id, amount: amount, reason: "admin: \(reason)", reference: reference) == .unknownUser
        } else {
            unknown = try await ledger.debit(userID: id, amount: -amount, reason: "admin: \(reason)", reference: reference) == .unknownUser
        }
        guard !unknown, let after = try await admin.user(id: id) else { throw Problem.notFound("No such user.") }
        try await record(caller, amount > 0 ? "credits.grant" : "credits.take", id, reason, before, after, context)
        return JSONResponse(.ok, after)
    }

    @Sendable func suspend(_ request: Request, context: Context) async throws -> JSONResponse<AdminUserRecord> {
        try await setSuspended(true, request, context)
    }

    @Sendable func restore(_ request: Request, context: Context) async throws -> JSONResponse<AdminUserRecord> {
        try await setSuspended(false, request, context)
    }

    @Sendable func auditLog(_ request: Request, context: Context) async throws -> JSONResponse<AuditResponse> {
        try CallerIdentity.requireAdmin(request, to: "read the audit log")
        var target: UserID?
        if let raw = request.uri.queryParameters.get("user_id"), !raw.isEmpty {
            guard let id = UserID(raw) else { throw Problem.badRequest("user_id must be a user id (a UUID).", type: "invalid-query") }
            target = id
        }
        let limit = try Self.limit(request, default: 100, max: 500)
        var before: Int64?
        if let raw = request.uri.queryParameters.get("cursor"), !raw.isEmpty {
            guard let id = Int64(raw), id > 0 else { throw Problem.badRequest("The cursor is not one this API gave out.", type: "invalid-cursor") }
            before = id
        }
        // One extra row tells whether another page follows.
        let rows = try await admin.auditEntries(target: target, before: before, limit: limit + 1)
        let items = Array(rows.prefix(limit))
        return JSONResponse(.ok, AuditResponse(items: items, nextCursor: rows.count > limit ? items.last.map { String($0.id) } : nil))
    }

    private func setSuspended(_ suspended: Bool, _ request: Request, _ context: Context) async throws -> JSONResponse<AdminUserRecord> {
        let caller = try CallerIdentity.requireAdmin(request, to: "suspend or restore accounts")
        let id = try Self.userID(context)
        var errors: [String: String] = [:]
        let reason = Self.reason(try await request.decode(as: ReasonRequest.self, context: context).reason, into: &errors)
        guard errors.isEmpty else { throw Problem.validation(errors) }
        if suspended && id == caller.userID { throw Problem.conflict("Admins cannot suspend themselves.", type: "cannot-suspend-self") }
        // An unknown id leaves no suspension key behind in Redis.
        guard let current = try await admin.user(id: id) else { throw Problem.notFound("No such user.") }
        // A deleted account stays locked: restoring it would revive its still-valid access tokens.
        if !suspended && current.deletedAt != nil { throw Problem.conflict("This account was deleted; it cannot be restored.", type: "account-deleted") }
        // Redis first for a suspension: should it fail, nothing is recorded and the admin retries.
        if suspended { _ = try await redis.send(["SET", keys.suspended(id), "1"]) }
        guard let change = try await admin.setSuspended(id: id, suspended) else { throw Problem.notFound("No such user.") }
        if !suspended { _ = try await redis.send(["DEL", keys.suspended(id)]) }
        try await record(caller, suspended ? "user.suspend" : "user.restore", id, reason, change.before, change.after, context)
        return JSONResponse(.ok, change.after)
    }

    private func record(
        _ caller: CallerIdentity, _ action: String, _ target: UserID, _ reason: String, _ before: AdminUserRecord, _ after: AdminUserRecord,
        _ context: Context
    ) async throws {
        let encode = { (record: AdminUserRecord) in String(decoding: (try? WireCodec.encodeBody(record)) ?? [], as: UTF8.self) }
        try await admin.audit(AdminAuditEntry(
            adminID: caller.userID, action: action, targetUserID: target, reason: reason, before: encode(before), after: encode(after)))
        context.logger.notice("admin action", metadata: ["user_id": "\(caller.userID)", "action": "\(action)", "target_user_id": "\(target)"])
    }

    private static func userID(_ context: Context) throws -> UserID {
        guard let id = context.parameters.get("id").flatMap(UserID.init) else { throw Problem.notFound("No such user.") }
        return id
    }

    private static func reason(_ raw: String?, into errors: inout [String: String]) -> String {
        let reason = (raw ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        if reason.isEmpty || reason.count > 500 { errors["reason"] = "is required, at most 500 characters" }
        if reason.unicodeScalars.contains("\0") { errors["reason"] = "must not contain NUL characters" }
        return reason
    }

    /// `?limit=`: absent gives `default`; anything but a whole number from 1 to `max` is 400 `invalid-query`.
    private static func limit(_ request: Request, default fallback: Int, max: Int) throws -> Int {
        guard let raw = request.uri.queryParameters.get("limit") else { return fallback }
        guard let value = Int(raw), (1...max).contains(value) else {
            throw Problem.badRequest("limit must be an integer from 1 to \(max).", type: "invalid-query")
        }
        return value
    }
}
