import HTTPTypes

/// What an API key's scopes let it do through the gateway.
///
/// `read`: GET and HEAD on the routes its owner could use. `generate`: submit
/// (`POST /api/v1/generations`) and cancel (`POST /api/v1/generations/{id}/cancel`) generations.
/// Nothing else: a key never manages API keys, the password, billing, or edits and deletes images,
/// whatever its scopes; those need a signed-in user.
enum APIKeyScope {
    static func allows(_ scopes: Set<String>, method: HTTPRequest.Method, path: String) -> Bool {
        if path == "/api/v1/api-keys" || path.hasPrefix("/api/v1/api-keys/") || path.hasPrefix("/api/v1/me/password") { return false }
        if method == .get || method == .head { return scopes.contains("read") }
        guard method == .post, scopes.contains("generate") else { return false }
        let segments = path.split(separator: "/")
        // api, v1, generations[, id, cancel]
        return segments.count == 3 && segments[2] == "generations"
            || segments.count == 5 && segments[2] == "generations" && segments[4] == "cancel"
    }
}
