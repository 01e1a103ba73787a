/// Which upstream serves a public path, and whether it needs a signed-in caller.
struct UpstreamRoute: Sendable, Equatable {
    enum Access: Sendable { case `public`, optional, required }

    let upstream: Upstream
    let access: Access

    /// Prefix table of the public API; first match wins. `/internal/*` and anything unknown match nothing.
    static let table: [(prefix: String, route: UpstreamRoute)] = [
        ("/api/v1/auth/", UpstreamRoute(upstream: .user, access: .public)),
        ("/api/v1/me", UpstreamRoute(upstream: .user, access: .required)),
        ("/api/v1/api-keys", UpstreamRoute(upstream: .user, access: .required)),
        ("/api/v1/models", UpstreamRoute(upstream: .modelRouter, access: .optional)),
        ("/api/v1/styles", UpstreamRoute(upstream: .modelRouter, access: .public)),
        ("/api/v1/generations", UpstreamRoute(upstream: .generation, access: .required)),
        ("/api/v1/admin/jobs", UpstreamRoute(upstream: .generation, access: .required)),
        ("/api/v1/admin/images", UpstreamRoute(upstream: .gallery, access: .required)),
        ("/api/v1/admin/users", UpstreamRoute(upstream: .user, access: .required)),
        ("/api/v1/admin/audit", UpstreamRoute(upstream: .user, access: .required)),
        ("/api/v1/webhooks", UpstreamRoute(upstream: .generation, access: .required)),
        ("/api/v1/images", UpstreamRoute(upstream: .gallery, access: .optional)),
        ("/api/v1/explore", UpstreamRoute(upstream: .gallery, access: .optional)),
        ("/api/v1/billing", UpstreamRoute(upstream: .paymentWebhook, access: .required)),
        ("/webhooks/", UpstreamRoute(upstream: .paymentWebhook, access: .public)),
    ]

    /// The route for `path`, or nil (404). A prefix matches a whole segment: `/api/v1/me` matches
    /// `/api/v1/me` and `/api/v1/me/credits`, not `/api/v1/meh`.
    static func match(_ path: String) -> UpstreamRoute? {
        if path.contains("/../") || path.hasSuffix("/..") || path.contains("//") { return nil }
        for (prefix, route) in table {
            if prefix.hasSuffix("/") {
                if path.hasPrefix(prefix) { return route }
            } else if path == prefix || path.hasPrefix(prefix + "/") {
                return route
            }
        }
        return nil
    }
}
