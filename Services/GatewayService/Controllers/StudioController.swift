import Foundation
import HTTPTypes
import Hummingbird
import ServiceKit

/// `GET /` and `GET /studio/<file>` (and HEAD): the studio page for people, built only on the public API.
///
/// The files are compiled in (`StudioAssets`, generated from web/studio/ by scripts/studio.py), so
/// the deployed gateway needs nothing from the repository. Each answer carries a strong `ETag` and
/// `Cache-Control: no-cache` (revalidated on every use, so a new gateway's page is seen at once);
/// a matching `If-None-Match` is 304. The Content-Security-Policy allows scripts, styles and
/// connections from the gateway's own origin only (no inline code) and no framing; images come from
/// that origin, from `blob:` (private images are fetched with the token and shown as object URLs)
/// and from `PINGVAS_STUDIO_IMAGE_ORIGINS` (where S3 storage redirects them). `SecurityHeadersMiddleware`
/// adds nosniff, `X-Frame-Options` and the referrer policy, as on every answer.
/// These are pages, not API routes: scripts/check_api.py leaves paths outside `/api/` and
/// `/webhooks/` out of the documented API.
struct StudioController: Sendable {
    /// The page's policy; `imageOrigins` (`PINGVAS_STUDIO_IMAGE_ORIGINS`) join `img-src` and `connect-src`.
    static func policy(imageOrigins: [String] = []) -> String {
        let extra = imageOrigins.map { " " + $0 }.joined()
        return [
            "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' blob: data:\(extra)",
            "connect-src 'self'\(extra)", "font-src 'self'", "manifest-src 'self'", "form-action 'self'", "base-uri 'none'",
            "frame-ancestors 'none'",
        ].joined(separator: "; ")
    }
    static let indexFile = "index.html"

    let files: [String: StudioAsset]
    let contentSecurityPolicy: String

    init(files: [String: StudioAsset] = StudioAssets.files, imageOrigins: [String] = []) {
        self.files = files
        contentSecurityPolicy = Self.policy(imageOrigins: imageOrigins)
    }

    /// Mounted at the root; the proxy's `/api/**` and `/webhooks/**` are untouched.
    var routes: RouteCollection<ServiceRequestContext> {
        let routes = RouteCollection(context: ServiceRequestContext.self)
        routes.get("/") { request, _ in
            try serve(Self.indexFile, request: request)
        }
        routes.get("/studio/{file}") { request, context in
            try serve(context.parameters.require("file"), request: request)
        }
        // HEAD answers what GET would, without the body (link checkers, uptime probes).
        routes.head("/") { request, _ in
            try serve(Self.indexFile, request: request).withoutBody
        }
        routes.head("/studio/{file}") { request, context in
            try serve(context.parameters.require("file"), request: request).withoutBody
        }
        return routes
    }

    func serve(_ name: String, request: Request) throws -> Response {
        guard let asset = files[name] else { throw Problem.notFound("No such file of the studio page.") }
        var headers: HTTPFields = [
            .contentType: asset.contentType, .eTag: asset.etag, .cacheControl: "no-cache",
            .contentSecurityPolicy: contentSecurityPolicy,
        ]
        headers[.crossOriginOpenerPolicy] = "same-origin"
        headers[.crossOriginResourcePolicy] = "same-origin"
        if Self.matches(request.headers[values: .ifNoneMatch], etag: asset.etag) {
            return Response(status: .notModified, headers: headers)
        }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: asset.text)))
    }

    /// RFC 9110 13.1.2: `*`, or any listed tag equal to ours under the weak comparison.
    static func matches(_ values: [String], etag: String) -> Bool {
        let ours = etag.hasPrefix("W/") ? String(etag.dropFirst(2)) : etag
        for value in values {
            for tag in value.split(separator: ",") {
                let tag = tag.trimmingCharacters(in: .whitespaces)
                if tag == "*" { return true }
                let bare = tag.hasPrefix("W/") ? String(tag.dropFirst(2)) : tag
                if bare == ours { return true }
            }
        }
        return false
    }
}

extension HTTPField.Name {
    static let crossOriginOpenerPolicy = HTTPField.Name("Cross-Origin-Opener-Policy")!
    static let crossOriginResourcePolicy = HTTPField.Name("Cross-Origin-Resource-Policy")!
}

extension Response {
    /// The same status and headers (Content-Length included), no body: the answer to HEAD.
    fileprivate var withoutBody: Response {
        var headers = self.headers
        if headers[.contentLength] == nil, let length = body.contentLength { headers[.contentLength] = String(length) }
        return Response(status: status, headers: headers)
    }
}
