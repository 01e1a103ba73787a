import HTTPTypes
import Hummingbird
import ServiceKit

/// `GET /api/v1/openapi.json` and `GET /api/v1/docs`: the public API's OpenAPI document and its
/// rendered reference page, served by the gateway itself (no token, no upstream, no rate limit).
///
/// Both are compiled in (`APIDocument`, generated from docs/openapi.yaml by scripts/openapi.py),
/// so every gateway serves the document of the code it runs.
struct APIDocsController: Sendable {
    static let openAPIPath: RouterPath = "/api/v1/openapi.json"
    static let docsPath: RouterPath = "/api/v1/docs"

    /// Mounted at the root; these exact paths win over the proxy's `/api/**`.
    var routes: RouteCollection<ServiceRequestContext> {
        let routes = RouteCollection(context: ServiceRequestContext.self)
        routes.get(Self.openAPIPath) { _, _ in
            Self.page(APIDocument.json, contentType: "application/json")
        }
        routes.get(Self.docsPath) { _, _ in
            var response = Self.page(APIDocument.html, contentType: "text/html; charset=utf-8")
            // The page needs nothing but its own inline styles.
            response.headers[.contentSecurityPolicy] = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
            return response
        }
        return routes
    }

    static func page(_ text: String, contentType: String) -> Response {
        Response(
            status: .ok,
            headers: [.contentType: contentType, .cacheControl: "public, max-age=300"],
            body: .init(byteBuffer: ByteBuffer(string: text))
        )
    }
}
