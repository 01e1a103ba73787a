import Core
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import PingvasCrypto
import ServiceKit

/// `GET /api/v1/auth/oauth/{google,discord}/start` and `.../callback`: social login.
///
/// `start` stores a pending login (state, nonce, PKCE verifier; 10 minutes, usable once) and
/// redirects to the provider. `callback` takes the state back (unknown, used or another
/// provider's: 400 `invalid-oauth-state`), exchanges the code with the verifier, verifies Google's
/// ID token (signature against the provider's JWKS, issuer, audience, expiry, nonce) or asks
/// Discord who the user is, and answers with the same tokens as a password login. A provider
/// account already linked signs in as its user; otherwise an account with the same email is linked,
/// or a new one created, only when the provider says the email is verified (else 403
/// `oauth-email-unverified` and nothing is created or linked).
struct OAuthController<Context: Hummingbird.RequestContext>: Sendable {
    let providers: OAuthProviderClient
    let states: OAuthStateStore
    let identities: any OAuthIdentityRepository
    let users: any UserRepository
    let admin: any AdminRepository
    let refreshTokens: any RefreshTokenRepository
    let passwords: PasswordService
    let tokens: TokenIssuer
    let signupCredits: Int64

    var routes: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get(":provider/start", use: start)
        routes.get(":provider/callback", use: callback)
        return routes
    }

    @Sendable func start(_ request: Request, context: Context) async throws -> Response {
        let provider = try Self.provider(context)
        let state = SecureRandom.token(byteCount: 32)
        let pending = OAuthStateStore.Pending(provider: provider.rawValue, verifier: SecureRandom.token(byteCount: 48), nonce: SecureRandom.token(byteCount: 32))
        let location = try await providers.authorizationURL(provider, state: state, nonce: pending.nonce, verifier: pending.verifier)
        try await states.save(state: state, pending)
        return Response(status: .found, headers: [.location: location, .cacheControl: "no-store"])
    }

    @Sendable func callback(_ request: Request, context: Context) async throws -> JSONResponse<AuthController<Context>.TokensResponse> {
        let provider = try Self.provider(context)
        let query = request.uri.queryParameters
        if query.get("error") != nil { throw OAuthProviderClient.refused("The sign-in was declined at the provider.") }
        guard let state = query.get("state"), let code = query.get("code"), !code.isEmpty,
            let pending = try await states.take(state: state), pending.provider == provider.rawValue
        else {
            throw Problem(.badRequest, type: "invalid-oauth-state", detail: "The sign-in link is unknown, used or expired; start again.")
        }
        let account = try await providers.account(provider, code: code, verifier: pending.verifier, nonce: pending.nonce)
        let user = try await resolve(provider, account, context: context)
        if try await admin.isSuspended(id: user.id) { throw Problem.accountSuspended }
        let refresh = tokens.makeRefreshToken()
        try await refreshTokens.insert(tokenHash: refresh.hash, userID: user.id, familyID: UUID().uuidString.lowercased(), expiresAt: refresh.expiresAt)
        let response = AuthController<Context>.TokensResponse(
            accessToken: try await tokens.accessToken(for: user), refreshToken: refresh.token, expiresIn: tokens.accessLifetimeSeconds,
            user: .init(id: user.id.description, email: user.email, displayName: user.displayName)
        )
        context.logger.info("user logged in", metadata: ["user_id": "\(user.id)", "provider": "\(provider.rawValue)"])
        return JSONResponse(.ok, response, headers: AuthController<Context>.noStore)
    }

    /// The user this provider account signs in as: linked before, linked now by verified email, or new.
    private func resolve(_ provider: OAuthProviderClient.Provider, _ account: OAuthProviderClient.Account, context: Context) async throws -> UserRecord {
        if let linked = try await identities.user(provider: provider.rawValue, subject: account.subject), let user = try await users.find(id: linked) {
            return user
        }
        guard let rawEmail = account.email, account.emailVerified else {
            throw Problem(
                .forbidden, type: "oauth-email-unverified",
                detail: "The provider does not confirm this account's email address; verify it there, or sign up with a password."
            )
        }
        let email = SignupInput.normaliseEmail(rawEmail)
        var user = try await users.credentials(email: email)?.user
        if user == nil {
            let name = SignupInput.normaliseDisplayName(account.name ?? String(email.prefix { $0 != "@" }))
            let unusable = try await passwords.hash(SecureRandom.token())  // no password: sign in through the provider or reset
            let created = try await users.create(
                NewUser(email: email, displayName: name.isEmpty ? "User" : String(name.prefix(50)), passwordHash: unusable), signupCredits: signupCredits)
            if let created {
                user = created
            } else {
                user = try await users.credentials(email: email)?.user  // created concurrently
            }
            if let user { context.logger.info("user signed up", metadata: ["user_id": "\(user.id)", "provider": "\(provider.rawValue)"]) }
        }
        guard let user else { throw Problem.notFound("The account could not be created.") }
        try await identities.link(provider: provider.rawValue, subject: account.subject, userID: user.id, email: email)
        return user
    }

    private static func provider(_ context: Context) throws -> OAuthProviderClient.Provider {
        guard let provider = context.parameters.get("provider").flatMap(OAuthProviderClient.Provider.init(rawValue:)) else {
            throw Problem.notFound("No such sign-in provider.")
        }
        return provider
    }
}
