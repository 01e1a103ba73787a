import Core
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ServiceKit

extension MeController {
    struct PasswordChangeRequest: Decodable {
        var currentPassword: String?
        var newPassword: String?

        enum CodingKeys: String, CodingKey {
            case currentPassword = "current_password"
            case newPassword = "new_password"
        }
    }

    /// `POST /api/v1/me/password {current_password, new_password}` → 204. Every refresh token of
    /// the account is revoked, so every other session ends at its next refresh (access tokens
    /// live on until they expire, at most `PINGVAS_ACCESS_TOKEN_TTL`).
    @Sendable func changePassword(_ request: Request, context: Context) async throws -> Response {
        let caller = try CallerIdentity.require(request)
        let body = try await request.decode(as: PasswordChangeRequest.self, context: context)
        var errors: [String: String] = [:]
        if (body.currentPassword ?? "").isEmpty { errors["current_password"] = "is required" }
        if let new = body.newPassword {
            if let problem = SignupInput.passwordProblem(new) { errors["new_password"] = problem }
        } else {
            errors["new_password"] = "is required"
        }
        guard errors.isEmpty, let current = body.currentPassword, let new = body.newPassword else { throw Problem.validation(errors) }
        guard let user = try await users.find(id: caller.userID), let stored = try await users.credentials(email: user.email) else {
            throw Problem.notFound("The user no longer exists.")
        }
        guard current.count <= SignupInput.passwordLength.upperBound, try await passwords.verify(current, against: stored.passwordHash) else {
            throw Problem(.forbidden, type: "invalid-credentials", title: "Invalid credentials", detail: "The current password is incorrect.")
        }
        try await users.updatePasswordHash(id: user.id, passwordHash: try await passwords.hash(new))
        let revoked = try await refreshTokens.revokeAll(userID: user.id)
        context.logger.info("password changed; refresh tokens revoked", metadata: ["user_id": "\(user.id)", "revoked": "\(revoked)"])
        return Response(status: .noContent, headers: [.cacheControl: "no-store"])
    }
}
