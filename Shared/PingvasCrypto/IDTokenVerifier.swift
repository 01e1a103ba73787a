package import Foundation
import JWTKit

/// Verifies an OpenID Connect ID token against the provider's JWKS (jwt-kit: RS256, ES256, EdDSA,
/// whatever the key set holds): signature, issuer, audience, expiry and nonce.
package enum IDTokenVerifier {
    /// What the service needs from a verified ID token.
    package struct Claims: Sendable, Equatable {
        package var subject: String
        package var email: String?
        package var emailVerified: Bool
        package var name: String?
    }

    /// The claims of `token`, or `TokenError.expired` / `.invalid` (bad signature, unknown key,
    /// another issuer or audience, a missing or different nonce).
    package static func verify(
        _ token: String, jwksJSON: String, issuers: Set<String>, audience: String, nonce: String
    ) async throws(TokenError) -> Claims {
        guard token.utf8.count <= 16 * 1024 else { throw .invalid }
        let keys = JWTKeyCollection()
        do {
            try await keys.add(jwksJSON: jwksJSON)
        } catch {
            throw .invalidKey("the provider's JWKS is unusable")
        }
        let payload: Payload
        do {
            payload = try await keys.verify(token, as: Payload.self)
        } catch let error as TokenError {
            throw error
        } catch {
            throw .invalid
        }
        guard issuers.contains(payload.iss), payload.aud.contains(audience), let tokenNonce = payload.nonce,
            constantTimeEquals(Array(tokenNonce.utf8), Array(nonce.utf8))
        else { throw .invalid }
        return Claims(subject: payload.sub, email: payload.email, emailVerified: payload.emailVerified ?? false, name: payload.name)
    }

    struct Payload: JWTPayload {
        var iss: String
        var sub: String
        var aud: [String]
        var exp: Date
        var nonce: String?
        var email: String?
        var emailVerified: Bool?
        var name: String?

        enum CodingKeys: String, CodingKey {
            case iss, sub, aud, exp, nonce, email, name
            case emailVerified = "email_verified"
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            iss = try container.decode(String.self, forKey: .iss)
            sub = try container.decode(String.self, forKey: .sub)
            // `aud` is a string or an array of strings (RFC 7519 §4.1.3).
            if let one = try? container.decode(String.self, forKey: .aud) { aud = [one] } else { aud = try container.decode([String].self, forKey: .aud) }
            exp = Date(timeIntervalSince1970: try container.decode(Double.self, forKey: .exp))
            nonce = try container.decodeIfPresent(String.self, forKey: .nonce)
            email = try container.decodeIfPresent(String.self, forKey: .email)
            // Some providers send "true" as a string.
            if let flag = try? container.decodeIfPresent(Bool.self, forKey: .emailVerified) {
                emailVerified = flag
            } else {
                emailVerified = (try? container.decodeIfPresent(String.self, forKey: .emailVerified)) == "true"
            }
            name = try container.decodeIfPresent(String.self, forKey: .name)
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(iss, forKey: .iss)
            try container.encode(sub, forKey: .sub)
            try container.encode(aud, forKey: .aud)
            try container.encode(exp.timeIntervalSince1970, forKey: .exp)
            try container.encodeIfPresent(nonce, forKey: .nonce)
            try container.encodeIfPresent(email, forKey: .email)
            try container.encodeIfPresent(emailVerified, forKey: .emailVerified)
            try container.encodeIfPresent(name, forKey: .name)
        }

        func verify(using algorithm: some JWTAlgorithm) async throws {
            if exp <= Date() { throw TokenError.expired }
        }
    }

    /// An ID token for tests and fake providers: these claims signed with the Ed25519 `privateKeyBase64` under `kid`.
    package static func sign(
        privateKeyBase64: String, kid: String, issuer: String, subject: String, audience: String, nonce: String?, email: String?,
        emailVerified: Bool, expiresAt: Date
    ) async throws(TokenError) -> String {
        guard let raw = Base64URL.decode(privateKeyBase64), raw.count == 32,
            let key = try? EdDSA.PrivateKey(d: Base64URL.encode(raw), curve: .ed25519)
        else { throw .invalidKey("Ed25519 private key must be 32 bytes of base64") }
        let keys = JWTKeyCollection()
        await keys.add(eddsa: key, kid: JWKIdentifier(string: kid))
        var payload = try! JSONDecoder().decode(Payload.self, from: Data(#"{"iss":"","sub":"","aud":"","exp":0}"#.utf8))  // a fixed literal: decodes
        payload.iss = issuer
        payload.sub = subject
        payload.aud = [audience]
        payload.exp = expiresAt
        payload.nonce = nonce
        payload.email = email
        payload.emailVerified = emailVerified
        do {
            return try await keys.sign(payload, kid: JWKIdentifier(string: kid))
        } catch {
            throw .invalidKey("signing failed")
        }
    }
}
