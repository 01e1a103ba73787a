import Core
import Hummingbird
import ServiceKit

/// `GET /internal/queues/{pool}` → `{pool, waiting, delayed, running, depth}`: what KEDA's
/// metrics-api trigger scales each pool's workers on (`depth`, down to zero and back).
struct QueueController: Sendable {
    let queue: RedisJobQueue
    let catalog: ModelCatalog

    /// Mounted at `/internal/queues`.
    var routes: RouteCollection<ServiceRequestContext> {
        let routes = RouteCollection(context: ServiceRequestContext.self)
        routes.get("{pool}", use: show)
        return routes
    }

    struct Depth: Encodable, Sendable {
        var pool: String
        var waiting: Int
        var delayed: Int
        var running: Int
        /// waiting + delayed + running: the jobs this pool's workers have to serve.
        var depth: Int
    }

    @Sendable func show(_ request: Request, context: ServiceRequestContext) async throws -> JSONResponse<Depth> {
        guard let pool = context.parameters.get("pool"), catalog.pools.contains(pool) else {
            throw Problem.notFound("No such pool.")
        }
        let counts = try await queue.depth(pool: pool)
        return JSONResponse(.ok, Depth(
            pool: pool, waiting: counts.waiting, delayed: counts.delayed, running: counts.running,
            depth: counts.total
        ))
    }
}
