import HTTPTypes
import Testing
@testable import GatewayService

@Suite(.timeLimit(.minutes(2))) struct UpstreamRouteTests {
    @Test(arguments: [
        ("/api/v1/auth/login", Upstream.user, UpstreamRoute.Access.public),
        ("/api/v1/me", .user, .required),
        ("/api/v1/me/credits", .user, .required),
        ("/api/v1/models", .modelRouter, .optional),
        ("/api/v1/generations", .generation, .required),
        ("/api/v1/generations/abc/events", .generation, .required),
        ("/api/v1/images/abc/content", .gallery, .optional),
        ("/api/v1/images/abc/remix", .gallery, .optional),
        ("/api/v1/admin/images/reports", .gallery, .required),
        ("/api/v1/admin/jobs/abc/requeue", .generation, .required),
        ("/api/v1/explore", .gallery, .optional),
        ("/api/v1/billing/checkout", .paymentWebhook, .required),
        ("/webhooks/lemonsqueezy", .paymentWebhook, .public),
    ])
    func routes(path: String, upstream: Upstream, access: UpstreamRoute.Access) {
        #expect(UpstreamRoute.match(path) == UpstreamRoute(upstream: upstream, access: access))
    }

    @Test(arguments: ["/internal/credits/holds", "/api/v1/internal/route", "/api/v1/meh", "/api/v2/me", "/api/v1/images/../../internal/x", "/api//v1/me", "/"])
    func unknownOrInternalPathsMatchNothing(path: String) {
        #expect(UpstreamRoute.match(path) == nil)
    }

    @Test func identityAndCredentialsNeverGoUpstreamFromTheClient() {
        for name in ["X-User-Id", "x-user-roles", "X-User-Plan", "Authorization", "Cookie", "Host", "Connection", "Transfer-Encoding", "X-Request-Id", "traceparent"] {
            #expect(!ProxyController.forwards(.init(name)!), "\(name) must not be forwarded")
        }
        for name in ["Content-Type", "Accept", "Idempotency-Key", "Range", "If-None-Match", "X-Signature", "X-Event-Name", "Last-Event-ID"] {
            #expect(ProxyController.forwards(.init(name)!), "\(name) must be forwarded")
        }
    }
}
