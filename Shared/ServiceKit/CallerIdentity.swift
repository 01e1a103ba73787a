import Foundation
package import Core
package import Hummingbird

/// Who is calling, as the gateway vouched for it in `X-User-Id`, `X-User-Roles` and `X-User-Plan`.
///
/// Services behind the gateway trust these headers because they are signed: the gateway drops any
/// a client sends, sets them only after verifying the caller's credential, and signs them with
/// `PINGVAS_INTERNAL_SECRET` (`InternalTrust.signedHeaders`); `CallerVerificationMiddleware`
/// refuses any request whose identity headers lack a valid, fresh signature before a route reads them.
package struct CallerIdentity: Sendable, Equatable {
    package var userID: UserID
    package var roles: [String]
    package var plan: Plan

    package init(userID: UserID, roles: [String] = ["user"], plan: Plan = .free) {
        self.userID = userID
        self.roles = roles
        self.plan = plan
    }

    package var isAdmin: Bool { roles.contains("admin") }

    /// The caller of `request`, or nil when the request carries no (valid) identity.
    package init?(request: Request) {
        guard let raw = request.headers[.userID], let userID = UserID(raw) else { return nil }
        self.userID = userID
        self.roles = (request.headers[.userRoles] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        self.plan = request.headers[.userPlan].flatMap(Plan.init(rawValue:)) ?? .free
    }

    /// The caller, or a 401 problem.
    package static func require(_ request: Request) throws -> CallerIdentity {
        guard let identity = CallerIdentity(request: request) else { throw Problem.unauthorized() }
        return identity
    }

    /// The caller if they have the `admin` role: 401 without an identity, 403 `forbidden` saying
    /// `what` only admins may do otherwise.
    @discardableResult
    package static func requireAdmin(_ request: Request, to what: String) throws -> CallerIdentity {
        let caller = try require(request)
        guard caller.isAdmin else { throw Problem.forbidden("Only admins may \(what).") }
        return caller
    }

}
