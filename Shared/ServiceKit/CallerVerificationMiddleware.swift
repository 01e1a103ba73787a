import Foundation
package import Hummingbird
package import HTTPTypes

/// Lets a request in only with the credentials its headers claim (`InternalTrust`).
///
/// - `/internal/*`, however spelled: 401 `service-credential-required` without a valid
///   `X-Internal-Caller` / `X-Internal-Token` pair.
/// - Any `X-User-*` header: 401 `invalid-identity` unless `X-User-Signature` is the gateway's
///   signature over exactly these values and fresh. A request with none is anonymous, and routes
///   that need a caller answer 401 through `CallerIdentity.require`.
///
/// Every service but the gateway runs it (`ServiceRouter.make`), so an `X-User-Id` sent straight
/// to a service, past the gateway, identifies no one.
package struct CallerVerificationMiddleware<Context: RequestContext>: RouterMiddleware {
    let trust: InternalTrust
    /// `/internal/*` prefixes whose GETs need no credential (model-router's queue depths, which
    /// KEDA polls and which carry only counts); the NetworkPolicies still decide who may connect.
    let openInternalReads: [String]

    package init(trust: InternalTrust, openInternalReads: [String] = []) {
        self.trust = trust
        self.openInternalReads = openInternalReads
    }

    package func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        let openRead = request.method == .get && openInternalReads.contains { path.hasPrefix($0) } && !path.contains("%") && !path.contains("..")
        if InternalTrust.isInternalPath(path) && !openRead {
            guard let caller = request.headers[.internalCaller], let token = request.headers[.internalToken],
                trust.verifyCaller(caller, token: token)
            else {
                throw Problem(.unauthorized, type: "service-credential-required", detail: "Internal routes are for services with a valid credential.")
            }
        }
        let claimsIdentity = request.headers.contains { $0.name.canonicalName.lowercased().hasPrefix("x-user-") }
        if claimsIdentity {
            let valid = request.headers[.userSignature].map {
                trust.verifyIdentity(
                    userID: request.headers[.userID] ?? "", roles: request.headers[.userRoles] ?? "", plan: request.headers[.userPlan] ?? "",
                    signature: $0
                )
            }
            guard valid == true else {
                throw Problem(
                    .unauthorized, type: "invalid-identity",
                    detail: "The caller's identity is not signed by the gateway, or its signature is stale. Call the API through the gateway."
                )
            }
        }
        return try await next(request, context)
    }
}

extension HTTPField.Name {
    package static let userSignature = HTTPField.Name("X-User-Signature")!
    package static let internalCaller = HTTPField.Name("X-Internal-Caller")!
    package static let internalToken = HTTPField.Name("X-Internal-Token")!
}
