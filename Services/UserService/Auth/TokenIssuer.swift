import Core
import Foundation
import PingvasCrypto

/// Issues token pairs: a signed access token and a fresh refresh token (only its hash is stored).
struct TokenIssuer: Sendable {
    let signer: TokenSigner
    let accessLifetime: Duration
    let refreshLifetime: Duration

    /// A new refresh token and the SHA-256 hex under which it is stored.
    struct RefreshToken: Sendable {
        var token: String
        var hash: String
        var expiresAt: Date
    }

    func accessToken(for user: UserRecord) async throws -> String {
        let claims = TokenSigner.makeAccessClaims(
            userID: user.id.description, roles: user.roles, plan: user.plan.rawValue, lifetime: accessLifetime)
        return try await signer.sign(claims)
    }

    func makeRefreshToken(now: Date = .now) -> RefreshToken {
        let token = SecureRandom.token()
        return RefreshToken(token: token, hash: Self.hash(token), expiresAt: now.addingTimeInterval(Self.seconds(refreshLifetime)))
    }

    /// The stored form of a presented refresh token.
    static func hash(_ token: String) -> String { SHA256Digest.hex(Array(token.utf8)) }

    var accessLifetimeSeconds: Int { Int(Self.seconds(accessLifetime)) }

    static func seconds(_ duration: Duration) -> TimeInterval {
        duration.inSeconds
    }
}
