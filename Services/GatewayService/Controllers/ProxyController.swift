import Core
import Foundation
import HTTPClient
import HTTPTypes
import Hummingbird
import Logging
import PingvasCrypto
import ServiceKit

/// Forwards `/api/v1/*` and `/webhooks/*` to the service that owns them.
///
/// Verifies the access token here with user's published public keys (`JWKSVerifier`; no call to
/// user per request) or an API key through user (`APIKeyResolver`), drops every identity header a
/// client sent and sets `X-User-Id`, `X-User-Roles`, `X-User-Plan` from the token; the request id
/// and trace context travel through `RequestContext`. Responses stream back as they arrive, so
/// server-sent events are not buffered. Event streams go through a client of their own (their own
/// connection budget) and count against `streams`, at most so many per caller.
struct ProxyController: Sendable {
    let configuration: GatewayConfiguration
    let client: CurlHTTPClient
    let tokens: JWKSVerifier
    let rateLimiter: RateLimiter
    let apiKeys: APIKeyResolver
    let suspensions: SuspensionList
    /// The client for event streams: connections that stay open do not take ordinary requests' places.
    let streamClient: CurlHTTPClient
    let streams: StreamLimiter

    /// Mounted at the root: `/api/**` and `/webhooks/**`.
    var routes: RouteCollection<ServiceRequestContext> {
        let routes = RouteCollection(context: ServiceRequestContext.self)
        for method: HTTPRequest.Method in [.get, .post, .put, .patch, .delete] {
            routes.on("/api/**", method: method, use: proxy)
            routes.on("/webhooks/**", method: method, use: proxy)
        }
        return routes
    }

    @Sendable func proxy(_ request: Request, context: ServiceRequestContext) async throws -> Response {
        let path = try CanonicalPathMiddleware<ServiceRequestContext>.canonicalPath(of: request)
        guard let route = UpstreamRoute.match(path), let base = configuration.upstreams[route.upstream] else {
            throw Problem.notFound("No such route.")
        }
        let identity = try await authenticate(request, path: path, access: route.access)

        var limits = [RateLimiter.Limit(key: "ip:\(clientAddress(request, context: context))", perMinute: configuration.rateLimitPerIP)]
        if let identity {
            let perUser = configuration.rateLimitPerUser > 0 ? configuration.rateLimitPerUser : identity.plan.requestsPerMinute
            limits.append(RateLimiter.Limit(key: "user:\(identity.userID)", perMinute: perUser))
        }
        if request.method == .post && path == "/api/v1/auth/signup" {
            let network = Self.network(of: clientAddress(request, context: context))
            limits.append(RateLimiter.Limit(key: "signup:\(network)", count: configuration.signupsPerNetwork, per: .seconds(3600)))
        }
        // The suspension look-up and the rate-limit script go out together (one round trip on the
        // shared Redis connection); a suspension wins over a rate limit.
        async let suspended = identity == nil ? false : suspensions.isSuspended(identity!.userID)
        let retryAfter = await rateLimiter.check(limits)
        if await suspended {
            throw Problem(.forbidden, type: "account-suspended", title: "Account suspended", detail: "This account is suspended; contact support.")
        }
        if let retryAfter {
            throw Problem.tooManyRequests(retryAfterSeconds: retryAfter)
        }

        // Held by the response body until the stream ends; freed (the place given back) on every other way out.
        let isStream = Self.isEventStream(request, path: path)
        let lease = isStream ? try streamLease(identity.map { "user:\($0.userID)" } ?? "ip:\(clientAddress(request, context: context))") : nil

        let body = try await collectBody(request)
        var target = base + path
        if let query = request.uri.query, !query.isEmpty { target += "?" + query }
        let outgoing = HTTPClientRequest(
            method: request.method.rawValue, url: target, headers: forwardedHeaders(request, context: context, identity: identity),
            body: body, timeout: configuration.upstreamTimeout
        )
        let upstream: HTTPClientStreamingResponse
        do {
            upstream = try await (isStream ? streamClient : client).stream(outgoing)
        } catch .timeout {
            throw Problem(.gatewayTimeout, type: "upstream-timeout", detail: "The \(route.upstream.rawValue) service did not answer in time.")
        } catch .connectionFailed {
            throw Problem(.badGateway, type: "upstream-unavailable", detail: "The \(route.upstream.rawValue) service is unreachable.")
        } catch .cancelled {
            throw CancellationError()
        } catch {
            context.logger.error("upstream call failed", metadata: ["upstream": "\(route.upstream.rawValue)", "error": "\(error)"])
            throw Problem(.badGateway, type: "upstream-unavailable", detail: "The \(route.upstream.rawValue) service failed.")
        }

        var fields = HTTPFields()
        for field in upstream.headers where Self.passesBack(field.name) {
            if let name = HTTPField.Name(field.name) { fields.append(HTTPField(name: name, value: field.value)) }
        }
        let stream = upstream.body
        return Response(
            status: HTTPResponse.Status(code: upstream.status),
            headers: fields,
            body: ResponseBody { writer in
                defer { withExtendedLifetime(lease) {} }
                for try await chunk in stream {
                    try await writer.write(ByteBuffer(bytes: chunk))
                }
                try await writer.finish(nil)
            }
        )
    }

    /// A place for one more stream of `caller`, or 429 (the caller's limit) or 503 (the gateway's) `too-many-streams`.
    func streamLease(_ caller: String) throws -> StreamLease {
        switch streams.acquire(caller) {
        case .success(let lease):
            return lease
        case .failure(.perCaller(let limit)):
            throw Self.tooManyStreams(.tooManyRequests, detail: "At most \(limit) event streams may be open at once; close one first.", limit: limit)
        case .failure(.total(let limit)):
            throw Self.tooManyStreams(.serviceUnavailable, detail: "The gateway holds as many event streams as it can; retry shortly.", limit: limit)
        }
    }

    /// Seconds a caller over the stream limit is told to wait: streams end when their job does.
    static let streamRetryAfterSeconds = 5

    static func tooManyStreams(_ status: HTTPResponse.Status, detail: String, limit: Int) -> Problem {
        Problem(
            status, type: "too-many-streams", detail: detail, extensions: ["limit": .int(limit)],
            headers: [.retryAfter: String(streamRetryAfterSeconds)]
        )
    }

    /// A request whose response stays open: a job's server-sent events (`GET .../events`), or any GET
    /// that asks for `text/event-stream`.
    static func isEventStream(_ request: Request, path: String) -> Bool {
        guard request.method == .get else { return false }
        if path.hasSuffix("/events") { return true }
        return request.headers[values: .accept].contains { $0.contains("text/event-stream") }
    }

    /// The caller behind the bearer token. Public routes ignore tokens (a stale one must not block
    /// login); optional routes accept none but reject a bad one; required routes need a good one.
    func authenticate(_ request: Request, path: String, access: UpstreamRoute.Access) async throws -> CallerIdentity? {
        guard access != .public else { return nil }
        guard let header = request.headers[.authorization] else {
            if access == .required { throw Problem.unauthorized("Sign in: this route needs a bearer access token.") }
            return nil
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw Problem.unauthorized("The Authorization header must be `Bearer <access token>`.")
        }
        let credential = String(parts[1])
        if credential.hasPrefix("pvk_") {
            guard let resolved = try await apiKeys.resolve(credential) else {
                throw Problem(
                    .unauthorized, type: "invalid-token", detail: "The API key is unknown or revoked.",
                    headers: [.wwwAuthenticate: "Bearer error=\"invalid_token\""]
                )
            }
            guard APIKeyScope.allows(resolved.scopes, method: request.method, path: path) else {
                throw Problem(
                    .forbidden, type: "insufficient-scope",
                    detail: "This API key's scopes (\(resolved.scopes.sorted().joined(separator: ", "))) do not allow \(request.method.rawValue) \(path)."
                )
            }
            return resolved.identity
        }
        let claims: AccessClaims
        do {
            claims = try await tokens.claims(credential)
        } catch let problem as Problem {
            throw problem
        } catch {
            throw Problem(
                .unauthorized, type: "invalid-token", detail: "The access token is invalid or expired.", headers: [.wwwAuthenticate: "Bearer error=\"invalid_token\""]
            )
        }
        guard let userID = UserID(claims.sub) else {
            throw Problem(.unauthorized, type: "invalid-token", detail: "The access token is invalid or expired.")
        }
        return CallerIdentity(userID: userID, roles: claims.roles, plan: Plan(rawValue: claims.plan) ?? .free)
    }

    func collectBody(_ request: Request) async throws -> [UInt8]? {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > configuration.maxBodyBytes {
            throw Self.tooLarge(configuration.maxBodyBytes)
        }
        do {
            let buffer = try await request.body.collect(upTo: configuration.maxBodyBytes)
            return buffer.readableBytes == 0 && [.get, .head, .delete].contains(request.method) ? nil : Array(buffer.readableBytesView)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw Self.tooLarge(configuration.maxBodyBytes)
        }
    }

    static func tooLarge(_ limit: Int) -> Problem {
        Problem(.contentTooLarge, type: "payload-too-large", detail: "The request body is larger than \(limit) bytes.")
    }

    /// The client's address: the peer, or with `trustedProxyHops` the entry that many hops back in `X-Forwarded-For`.
    func clientAddress(_ request: Request, context: ServiceRequestContext) -> String {
        let peer = context.peerAddress ?? "unknown"
        guard configuration.trustedProxyHops > 0, let forwarded = request.headers[.xForwardedFor] else { return peer }
        let hops = forwarded.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let index = hops.count - configuration.trustedProxyHops
        return index >= 0 && index < hops.count ? hops[index] : peer
    }

    func forwardedHeaders(_ request: Request, context: ServiceRequestContext, identity: CallerIdentity?) -> HTTPHeaders {
        var headers = HTTPHeaders()
        for field in request.headers where Self.forwards(field.name) {
            headers.add(name: field.name.canonicalName, value: field.value)
        }
        if let identity {
            for (name, value) in configuration.service.trust.signedHeaders(for: identity) { headers.add(name: name, value: value) }
        }
        let peer = context.peerAddress ?? "unknown"
        if let prior = request.headers[.xForwardedFor], configuration.trustedProxyHops > 0 {
            headers.add(name: "X-Forwarded-For", value: "\(prior), \(peer)")
        } else {
            headers.add(name: "X-Forwarded-For", value: peer)
        }
        return headers
    }

    /// Request headers that never go upstream: hop-by-hop ones, identity a client may not assert,
    /// credentials verified here, and ids this gateway sets itself.
    static func forwards(_ name: HTTPField.Name) -> Bool {
        let lowered = name.canonicalName.lowercased()
        if lowered.hasPrefix("x-user-") || lowered.hasPrefix("proxy-") { return false }
        return ![
            "connection", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade", "host", "content-length",
            "authorization", "cookie", "x-request-id", "traceparent", "tracestate", "x-forwarded-for", "expect",
        ].contains(lowered)
    }

    static func passesBack(_ name: String) -> Bool {
        !["connection", "keep-alive", "transfer-encoding", "upgrade", "trailer", "x-request-id", "server", "date"]
            .contains(name.lowercased())
    }
}

extension HTTPField.Name {
    static let xForwardedFor = HTTPField.Name("X-Forwarded-For")!
}
