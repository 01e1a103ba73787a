import HTTPTypes
package import Hummingbird
import Logging

/// The router every service starts from: standard middleware plus `/healthz`, `/readyz`, `/metrics`.
package enum ServiceRouter {
    /// Middleware order, outermost first: what `outermost` adds, request id, metrics, problem+json,
    /// and (unless `verifiesCallers` is false: only the gateway, which checks credentials itself)
    /// the check of signed identities and service credentials (`CallerVerificationMiddleware`).
    /// Routes a service adds run inside all of them, so their errors are problems, counted, and
    /// tagged with the request id; `outermost` middleware (e.g. the gateway's CORS and security
    /// headers) sees every response, error responses included.
    package static func make(
        configuration: ServiceConfiguration,
        readiness: [ReadinessCheck],
        verifiesCallers: Bool = true,
        openInternalReads: [String] = [],
        outermost: (Router<ServiceRequestContext>) -> Void = { _ in }
    ) -> Router<ServiceRequestContext> {
        ServiceMetrics.bootstrap()
        let router = Router(context: ServiceRequestContext.self)
        outermost(router)
        router.add(middleware: RequestIDMiddleware())
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: ProblemMiddleware())
        if verifiesCallers { router.add(middleware: CallerVerificationMiddleware(trust: configuration.trust, openInternalReads: openInternalReads)) }

        let serviceID = configuration.serviceID
        let timeout = configuration.readinessTimeout
        router.get("/healthz") { _, _ in
            JSONResponse(.ok, Health(status: "ok", service: serviceID))
        }
        router.get("/readyz") { _, context in
            let results = await ReadinessCheck.run(readiness, timeout: timeout)
            let failed = results.filter { $0.failure != nil }
            guard failed.isEmpty else {
                for result in failed {
                    context.logger.warning("not ready", metadata: ["dependency": "\(result.name)", "reason": "\(result.failure!)"])
                }
                let names = failed.map(\.name)
                throw Problem(
                    .serviceUnavailable, type: "dependency-unavailable", title: "Not ready",
                    detail: "Unavailable: \(names.joined(separator: ", ")).",
                    extensions: [
                        "failed": .array(names.map(ProblemValue.string)),
                        "checks": .object(Dictionary(uniqueKeysWithValues: results.map { ($0.name, .string($0.failure == nil ? "ok" : "failed")) })),
                    ]
                )
            }
            let checks = Dictionary(uniqueKeysWithValues: results.map { ($0.name, "ok") })
            return JSONResponse(.ok, Readiness(status: "ready", service: serviceID, checks: checks))
        }
        router.get("/metrics") { _, _ -> Response in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: ServiceMetrics.exposition()))
            )
        }
        return router
    }

    struct Health: Encodable, Sendable {
        var status: String
        var service: String
    }

    struct Readiness: Encodable, Sendable {
        var status: String
        var service: String
        var checks: [String: String]
    }
}
