import Core
import Foundation
import HTTPClient
import HTTPTypes
import PingvasCrypto
import ServiceKit

/// Talks to Google (OpenID Connect) and Discord (OAuth 2): authorization URLs with PKCE, the code
/// exchange, and who the user is according to the provider.
struct OAuthProviderClient: Sendable {
    enum Provider: String, Sendable, CaseIterable {
        case google, discord
    }

    /// The user as the provider vouches for them.
    struct Account: Sendable, Equatable {
        var subject: String
        var email: String?
        var emailVerified: Bool
        var name: String?
    }

    let settings: OAuthSettings
    let http: CurlHTTPClient

    func client(_ provider: Provider) -> OAuthSettings.Client? {
        switch provider {
        case .google: settings.google
        case .discord: settings.discord
        }
    }

    func redirectURI(_ provider: Provider) -> String {
        "\(settings.redirectBase ?? "")/api/v1/auth/oauth/\(provider.rawValue)/callback"
    }

    /// Where to send the browser: the provider's consent page with state, nonce (Google) and the S256 challenge.
    func authorizationURL(_ provider: Provider, state: String, nonce: String, verifier: String) async throws -> String {
        guard let client = client(provider) else { throw Self.unavailable(provider) }
        let challenge = Base64URLSafe.encode(SHA256Digest.hash(Array(verifier.utf8)))
        var query = [
            ("response_type", "code"), ("client_id", client.id), ("redirect_uri", redirectURI(provider)), ("state", state),
            ("code_challenge", challenge), ("code_challenge_method", "S256"),
        ]
        let endpoint: String
        switch provider {
        case .google:
            endpoint = try await discovery().authorizationEndpoint
            query += [("scope", "openid email profile"), ("nonce", nonce)]
        case .discord:
            endpoint = settings.discordURL + "/oauth2/authorize"
            query += [("scope", "identify email")]
        }
        return endpoint + "?" + Self.form(query)
    }

    /// Exchanges `code` and returns the account; `nonce` must be the one of the ID token (Google).
    func account(_ provider: Provider, code: String, verifier: String, nonce: String) async throws -> Account {
        guard let client = client(provider) else { throw Self.unavailable(provider) }
        let tokenURL = switch provider {
        case .google: try await discovery().tokenEndpoint
        case .discord: settings.discordURL + "/api/oauth2/token"
        }
        let body = Self.form([
            ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirectURI(provider)), ("client_id", client.id),
            ("client_secret", client.secret), ("code_verifier", verifier),
        ])
        let tokens = try await json(HTTPClientRequest(
            method: "POST", url: tokenURL, headers: HTTPHeaders([("Content-Type", "application/x-www-form-urlencoded"), ("Accept", "application/json")]),
            body: Array(body.utf8), timeout: .seconds(10)
        ), refusal: Self.refused("The provider did not accept the authorization code (expired, used before, or not for this client)."))
        switch provider {
        case .google:
            guard let idToken = tokens["id_token"] as? String else { throw Self.refused("The provider sent no ID token.") }
            let document = try await discovery()
            let jwks = try await text(HTTPClientRequest(url: document.jwksURI, timeout: .seconds(10)))
            // Google's tokens name the issuer with or without the scheme.
            let issuers: Set<String> = [document.issuer, document.issuer.replacingOccurrences(of: "https://", with: "")]
            let claims: IDTokenVerifier.Claims
            do {
                claims = try await IDTokenVerifier.verify(idToken, jwksJSON: jwks, issuers: issuers, audience: client.id, nonce: nonce)
            } catch {
                throw Self.refused(
                    error == .expired
                        ? "The provider's ID token has expired."
                        : "The provider's ID token is not valid for this login (signature, issuer, audience or nonce)."
                )
            }
            return Account(subject: claims.subject, email: claims.email, emailVerified: claims.emailVerified, name: claims.name)
        case .discord:
            guard let accessToken = tokens["access_token"] as? String else { throw Self.refused("The provider sent no access token.") }
            let user = try await json(HTTPClientRequest(
                url: settings.discordURL + "/api/users/@me", headers: HTTPHeaders([("Authorization", "Bearer \(accessToken)")]), timeout: .seconds(10)
            ), refusal: Self.refused("The provider did not say who the user is."))
            guard let id = user["id"] as? String else { throw Self.refused("The provider did not say who the user is.") }
            return Account(subject: id, email: user["email"] as? String, emailVerified: user["verified"] as? Bool ?? false,
                           name: (user["global_name"] as? String) ?? (user["username"] as? String))
        }
    }

    struct Discovery: Sendable {
        var issuer: String
        var authorizationEndpoint: String
        var tokenEndpoint: String
        var jwksURI: String
    }

    private func discovery() async throws -> Discovery {
        let document = try await json(HTTPClientRequest(url: settings.googleDiscoveryURL, timeout: .seconds(10)), refusal: Self.providerDown)
        guard let issuer = document["issuer"] as? String, let authorization = document["authorization_endpoint"] as? String,
            let token = document["token_endpoint"] as? String, let jwks = document["jwks_uri"] as? String
        else { throw Self.providerDown }
        return Discovery(issuer: issuer, authorizationEndpoint: authorization, tokenEndpoint: token, jwksURI: jwks)
    }

    private func json(_ request: HTTPClientRequest, refusal: Problem) async throws -> [String: Any] {
        let response: HTTPClientResponse
        do { response = try await http.execute(request) } catch { throw Self.providerDown }
        guard (200..<300).contains(response.status) else { throw response.status >= 500 ? Self.providerDown : refusal }
        guard let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] else { throw Self.providerDown }
        return object
    }

    private func text(_ request: HTTPClientRequest) async throws -> String {
        let response: HTTPClientResponse
        do { response = try await http.execute(request) } catch { throw Self.providerDown }
        guard response.status == 200 else { throw Self.providerDown }
        return String(decoding: response.body, as: UTF8.self)
    }

    static func form(_ pairs: [(String, String)]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return pairs.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }.joined(separator: "&")
    }

    static func unavailable(_ provider: Provider) -> Problem {
        Problem(.notFound, type: "oauth-provider-unavailable", detail: "Sign-in with \(provider.rawValue) is not configured.")
    }

    static func refused(_ detail: String) -> Problem {
        Problem(.unauthorized, type: "oauth-failed", title: "Sign-in failed", detail: detail)
    }

    static let providerDown = Problem(
        .badGateway, type: "oauth-provider-unavailable", detail: "The sign-in provider could not be reached; try again.", headers: [.retryAfter: "5"]
    )
}

/// base64url without padding, for PKCE challenges.
enum Base64URLSafe {
    static func encode(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
