import Foundation
import ServiceKit

/// Social login configuration: where the providers are and the client of each. A provider without
/// a client id is off (its routes answer 404 `oauth-provider-unavailable`).
struct OAuthSettings: Sendable {
    struct Client: Sendable {
        var id: String
        var secret: String
    }

    /// `PINGVAS_OAUTH_REDIRECT_BASE`: the public base URL of the API; the redirect URI registered
    /// with each provider is `<base>/api/v1/auth/oauth/<provider>/callback`.
    var redirectBase: String?
    var google: Client?
    /// `PINGVAS_OAUTH_GOOGLE_DISCOVERY_URL`: Google's OpenID configuration (tests: a fake on loopback).
    var googleDiscoveryURL: String
    var discord: Client?
    /// `PINGVAS_OAUTH_DISCORD_URL`: Discord's base (`/oauth2/authorize`, `/api/oauth2/token`, `/api/users/@me`).
    var discordURL: String

    init(reader: inout ConfigurationReader) {
        redirectBase = reader.optionalString("PINGVAS_OAUTH_REDIRECT_BASE").map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        googleDiscoveryURL = reader.string(
            "PINGVAS_OAUTH_GOOGLE_DISCOVERY_URL", default: "https://accounts.google.com/.well-known/openid-configuration")
        discordURL = reader.string("PINGVAS_OAUTH_DISCORD_URL", default: "https://discord.com")
        google = Self.client(&reader, idKey: "PINGVAS_OAUTH_GOOGLE_CLIENT_ID", secretKey: "PINGVAS_OAUTH_GOOGLE_CLIENT_SECRET")
        discord = Self.client(&reader, idKey: "PINGVAS_OAUTH_DISCORD_CLIENT_ID", secretKey: "PINGVAS_OAUTH_DISCORD_CLIENT_SECRET")
        if (google != nil || discord != nil) && redirectBase == nil {
            reader.reject("PINGVAS_OAUTH_REDIRECT_BASE", because: "required when an OAuth client is configured")
        }
    }

    private static func client(_ reader: inout ConfigurationReader, idKey: String, secretKey: String) -> Client? {
        let id = reader.optionalString(idKey)
        let secret = reader.optionalString(secretKey, secret: true)
        guard let id else { return nil }
        guard let secret else {
            reader.reject(secretKey, because: "required with \(idKey)")
            return nil
        }
        return Client(id: id, secret: secret)
    }
}
