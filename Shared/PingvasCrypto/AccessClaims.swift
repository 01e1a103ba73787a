package import Foundation

/// The claims of an access token: who (`sub`), what they may do (`roles`, `plan`), for how long.
///
/// `exp` and `iat` travel as whole seconds since 1970 (JWT NumericDate). `TokenSigner.verify`
/// checks the signature, then `exp`, `iss` and `aud`.
package struct AccessClaims: Codable, Sendable, Equatable {
    /// The user id.
    package var sub: String
    package var roles: [String]
    package var plan: String
    package var exp: Date
    package var iat: Date
    package var iss: String
    package var aud: String
    /// A unique token id, for logs and revocation lists.
    package var jti: String

    package init(sub: String, roles: [String], plan: String, exp: Date, iat: Date, iss: String, aud: String, jti: String) {
        self.sub = sub
        self.roles = roles
        self.plan = plan
        self.exp = exp
        self.iat = iat
        self.iss = iss
        self.aud = aud
        self.jti = jti
    }

    /// True when the token is no longer valid at `now`.
    package func isExpired(at now: Date = .now) -> Bool { now >= exp }

    enum CodingKeys: String, CodingKey {
        case sub, roles, plan, exp, iat, iss, aud, jti
    }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        sub = try c.decode(String.self, forKey: .sub)
        roles = try c.decodeIfPresent([String].self, forKey: .roles) ?? []
        plan = try c.decode(String.self, forKey: .plan)
        exp = Date(timeIntervalSince1970: try c.decode(Double.self, forKey: .exp))
        iat = Date(timeIntervalSince1970: try c.decode(Double.self, forKey: .iat))
        iss = try c.decode(String.self, forKey: .iss)
        aud = try c.decode(String.self, forKey: .aud)
        jti = try c.decode(String.self, forKey: .jti)
    }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(sub, forKey: .sub)
        try c.encode(roles, forKey: .roles)
        try c.encode(plan, forKey: .plan)
        try c.encode(Self.numericDate(exp), forKey: .exp)
        try c.encode(Self.numericDate(iat), forKey: .iat)
        try c.encode(iss, forKey: .iss)
        try c.encode(aud, forKey: .aud)
        try c.encode(jti, forKey: .jti)
    }

    static func numericDate(_ date: Date) -> Int64 { Int64(date.timeIntervalSince1970.rounded(.down)) }
}
