import Core
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ServiceKit

/// `POST /api/v1/auth/{signup,login,refresh,logout}`: accounts and token pairs.
struct AuthController<Context: Hummingbird.RequestContext>: Sendable {
    let users: any UserRepository
    let refreshTokens: any RefreshTokenRepository
    let passwords: PasswordService
    let tokens: TokenIssuer
    let signupCredits: Int64
    let throttle: LoginThrottle
    let admin: any AdminRepository

    /// Token responses must not be kept by browsers or proxies.
    static var noStore: HTTPFields { [.cacheControl: "no-store", HTTPField.Name("Pragma")!: "no-cache"] }

    var routes: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.post("signup", use: signup)
        routes.post("login", use: login)
        routes.post("refresh", use: refresh)
        routes.post("logout", use: logout)
        return routes
    }

    // MARK: - DTOs

    /// Fields are optional so a missing one is a 422 naming it, not a generic 400.
    struct SignupRequest: Decodable {
        var email: String?
        var password: String?
        var displayName: String?

        enum CodingKeys: String, CodingKey {
            case email, password
            case displayName = "display_name"
        }
    }

    struct LoginRequest: Decodable {
        var email: String?
        var password: String?
    }

    struct RefreshRequest: Decodable {
        var refreshToken: String?

        enum CodingKeys: String, CodingKey { case refreshToken = "refresh_token" }
    }

    struct UserSummary: Encodable, Sendable {
        var id: String
        var email: String
        var displayName: String

        enum CodingKeys: String, CodingKey {
            case id, email
            case displayName = "display_name"
        }
    }

    struct TokensResponse: Encodable, Sendable {
        var accessToken: String
        var refreshToken: String
        var tokenType = "Bearer"
        var expiresIn: Int
        var user: UserSummary

        enum CodingKeys: String, CodingKey {
            case user
            case accessToken = "access_token"
            case refreshToken = "refresh_token"
            case tokenType = "token_type"
            case expiresIn = "expires_in"
        }
    }

    // MARK: - Handlers

    @Sendable func signup(_ request: Request, context: Context) async throws -> JSONResponse<TokensResponse> {
        let body = try await request.decode(as: SignupRequest.self, context: context)
        let email = SignupInput.normaliseEmail(body.email ?? "")
        let displayName = SignupInput.normaliseDisplayName(body.displayName ?? "")
        var errors: [String: String] = [:]
        if body.email == nil { errors["email"] = "is required" } else if let problem = SignupInput.emailProblem(email) { errors["email"] = problem }
        if let password = body.password {
            if let problem = SignupInput.passwordProblem(password) { errors["password"] = problem }
        } else {
            errors["password"] = "is required"
        }
        if body.displayName == nil { errors["display_name"] = "is required" } else if let problem = SignupInput.displayNameProblem(displayName) {
            errors["display_name"] = problem
        }
        guard errors.isEmpty, let password = body.password else { throw Problem.validation(errors) }

        let passwordHash = try await passwords.hash(password)
        guard let user = try await users.create(NewUser(email: email, displayName: displayName, passwordHash: passwordHash), signupCredits: signupCredits)
        else { throw Problem.emailTaken }
        context.logger.info("user signed up", metadata: ["user_id": "\(user.id)"])
        return JSONResponse(.created, try await issuePair(for: user), headers: Self.noStore)
    }

    @Sendable func login(_ request: Request, context: Context) async throws -> JSONResponse<TokensResponse> {
        let body = try await request.decode(as: LoginRequest.self, context: context)
        var errors: [String: String] = [:]
        if (body.email ?? "").isEmpty { errors["email"] = "is required" }
        if (body.password ?? "").isEmpty { errors["password"] = "is required" }
        guard errors.isEmpty, let rawEmail = body.email, let password = body.password else { throw Problem.validation(errors) }

        let email = SignupInput.normaliseEmail(rawEmail)
        // Before any hashing: a locked account costs the attacker a 429 and the server nothing.
        try await throttle.checkAllowed(email: email)
        guard password.count <= SignupInput.passwordLength.upperBound,
            let stored = try await users.credentials(email: email)
        else {
            try await passwords.verifyDecoy(String(password.prefix(SignupInput.passwordLength.upperBound)))
            try await throttle.recordFailure(email: email)
            throw Problem.invalidCredentials
        }
        guard try await passwords.verify(password, against: stored.passwordHash) else {
            context.logger.info("login failed", metadata: ["user_id": "\(stored.user.id)"])
            try await throttle.recordFailure(email: email)
            throw Problem.invalidCredentials
        }
        await throttle.recordSuccess(email: email)
        if try await admin.isSuspended(id: stored.user.id) { throw Problem.accountSuspended }
        if passwords.needsRehash(stored.passwordHash) {
            // Best effort: a failure here must not fail a correct login.
            if let rehashed = try? await passwords.hash(password) {
                try? await users.updatePasswordHash(id: stored.user.id, passwordHash: rehashed)
            }
        }
        context.logger.info("user logged in", metadata: ["user_id": "\(stored.user.id)"])
        return JSONResponse(.ok, try await issuePair(for: stored.user), headers: Self.noStore)
    }

    @Sendable func refresh(_ request: Request, context: Context) async throws -> JSONResponse<TokensResponse> {
        let presented = try await Self.refreshToken(from: request, context: context)
        let next = tokens.makeRefreshToken()
        switch try await refreshTokens.rotate(presentedHash: TokenIssuer.hash(presented), newHash: next.hash, newExpiresAt: next.expiresAt) {
        case .rotated(let userID, _):
            guard let user = try await users.find(id: userID) else { throw Problem.invalidRefreshToken }
            if try await admin.isSuspended(id: userID) { throw Problem.accountSuspended }
            return JSONResponse(.ok, try await response(for: user, refreshToken: next.token), headers: Self.noStore)
        case .reused(let userID, let familyID):
            context.logger.warning("refresh token reused; family revoked", metadata: ["user_id": "\(userID)", "family_id": "\(familyID)"])
            throw Problem.invalidRefreshToken
        case .invalid:
            throw Problem.invalidRefreshToken
        }
    }

    @Sendable func logout(_ request: Request, context: Context) async throws -> Response {
        let presented = try await Self.refreshToken(from: request, context: context)
        // 204 also for an unknown token: logging out is idempotent and tells nothing about tokens.
        _ = try await refreshTokens.revokeFamily(ofTokenHash: TokenIssuer.hash(presented))
        return Response(status: .noContent)
    }

    // MARK: - Helpers

    private static func refreshToken(from request: Request, context: Context) async throws -> String {
        let body = try await request.decode(as: RefreshRequest.self, context: context)
        guard let token = body.refreshToken, !token.isEmpty else { throw Problem.validation(["refresh_token": "is required"]) }
        guard token.utf8.count <= 512 else { throw Problem.invalidRefreshToken }
        return token
    }

    /// A pair for a new login: the refresh token starts a new family.
    private func issuePair(for user: UserRecord) async throws -> TokensResponse {
        let refresh = tokens.makeRefreshToken()
        try await refreshTokens.insert(tokenHash: refresh.hash, userID: user.id, familyID: UUID().uuidString.lowercased(), expiresAt: refresh.expiresAt)
        return try await response(for: user, refreshToken: refresh.token)
    }

    private func response(for user: UserRecord, refreshToken: String) async throws -> TokensResponse {
        TokensResponse(
            accessToken: try await tokens.accessToken(for: user), refreshToken: refreshToken,
            expiresIn: tokens.accessLifetimeSeconds,
            user: UserSummary(id: user.id.description, email: user.email, displayName: user.displayName)
        )
    }
}
