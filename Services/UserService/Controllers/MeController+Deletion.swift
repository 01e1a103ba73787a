import Core
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import RedisClient
import ServiceKit

/// What deleting an account needs besides the user repository.
struct AccountDeletion: Sendable {
    let repository: any AccountDeletionRepository
    let announcer: DeletionAnnouncer
    let redis: RedisPool
    let keys: PipelineKeys
}

extension MeController {
    struct DeletionRequest: Decodable {
        var password: String?
        /// Instead of the password, for accounts with a social login: the account's email.
        var confirmEmail: String?

        enum CodingKeys: String, CodingKey {
            case password
            case confirmEmail = "confirm_email"
        }
    }

    /// `DELETE /api/v1/me {password}` (or `{confirm_email}` for an account with a social login) →
    /// 204. The account is anonymised and locked at once (its access tokens are refused from the
    /// next request, refresh tokens and API keys revoked, social logins unlinked); its credit ledger
    /// stays with its sums, under the anonymous row; gallery deletes its images and their files when
    /// `user.deleted` reaches it. Jobs already accepted finish and settle their holds as usual.
    @Sendable func deleteAccount(_ request: Request, context: Context) async throws -> Response {
        let caller = try CallerIdentity.require(request)
        guard let deletion else { throw Problem.unavailable("Account deletion is not configured here.") }
        let body = try await request.decode(as: DeletionRequest.self, context: context)
        guard let user = try await users.find(id: caller.userID), let stored = try await users.credentials(email: user.email) else {
            throw Problem.notFound("The user no longer exists.")
        }
        var confirmed = false
        if let password = body.password {
            if password.count <= SignupInput.passwordLength.upperBound {
                confirmed = try await passwords.verify(password, against: stored.passwordHash)
            }
        } else if let email = body.confirmEmail {
            confirmed = try await deletion.repository.hasSocialLogin(id: user.id) && SignupInput.normaliseEmail(email) == user.email
        } else {
            throw Problem.validation(["password": "is required (or confirm_email for an account with a social login)"])
        }
        guard confirmed else {
            throw Problem(.forbidden, type: "invalid-credentials", title: "Invalid credentials", detail: "The password (or email) does not confirm this account.")
        }
        // Redis first: should it fail, nothing is deleted and the user tries again.
        _ = try await deletion.redis.send(["SET", deletion.keys.suspended(user.id), "1"])
        guard try await deletion.repository.delete(id: user.id) else { throw Problem.notFound("The user no longer exists.") }
        context.logger.notice("account deleted", metadata: ["user_id": "\(user.id)"])
        await deletion.announcer.announce()
        return Response(status: .noContent)
    }
}
