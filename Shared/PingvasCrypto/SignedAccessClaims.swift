import Foundation
import JWTKit

/// `AccessClaims` as jwt-kit's payload: encoded flat, and rejecting an expired token right after
/// the signature check. Issuer and audience are checked by `TokenSigner`, which knows them.
struct SignedAccessClaims: JWTPayload {
    var claims: AccessClaims

    init(_ claims: AccessClaims) { self.claims = claims }

    init(from decoder: any Decoder) throws { claims = try AccessClaims(from: decoder) }

    func encode(to encoder: any Encoder) throws { try claims.encode(to: encoder) }

    func verify(using algorithm: some JWTAlgorithm) async throws {
        if claims.isExpired(at: Date()) { throw TokenError.expired }
    }
}
