import Core
import Hummingbird
import Logging
import ServiceKit

/// `GET /api/v1/models`: the catalog as clients see it, with live availability from the worker registry.
struct ModelController<Context: Hummingbird.RequestContext> {
    let catalog: ModelCatalog
    let registry: any WorkerRegistry
    /// For each pool's waiting jobs and the wait a new job would have; nil: not shown.
    var queue: RedisJobQueue?

    /// Mounted at `/api/v1/models`.
    var routes: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get { _, context in await list(context: context) }
        return routes
    }

    func list(context: Context) async -> JSONResponse<List> {
        let workers: [WorkerHeartbeat]
        do {
            workers = try await registry.liveWorkers()
        } catch {
            // The catalog is still worth showing when Redis is away; every model just looks offline.
            context.logger.warning("worker registry unavailable", metadata: ["error": "\(error)"])
            workers = []
        }
        let queues = await queueStates(workers: workers)
        let items = catalog.models.map {
            Item(model: $0, availability: ModelAvailability(model: $0, workers: workers, queue: queues[$0.pool]))
        }
        return JSONResponse(.ok, List(items: items))
    }

    /// Per pool: jobs waiting and the seconds a job submitted now would wait to start (from the
    /// dispatch order, the measured run times and the live workers); none when Redis is away.
    private func queueStates(workers: [WorkerHeartbeat]) async -> [String: ModelAvailability.Queue] {
        guard let queue else { return [:] }
        var states: [String: ModelAvailability.Queue] = [:]
        guard let measured = try? await queue.timings() else { return states }
        let timings = JobTimings(secondsPerWork: measured)
        for pool in catalog.pools {
            guard let snapshot = try? await queue.snapshot(pool: pool) else { continue }
            let live = workers.filter { $0.queues.contains(pool) }.count
            states[pool] = ModelAvailability.Queue(
                waiting: snapshot.waiting.count, running: snapshot.running.count,
                waitSeconds: (snapshot.waitForNext(workers: live, timings: timings) * 10).rounded() / 10
            )
        }
        return states
    }

    struct List: Encodable, Sendable {
        var items: [Item]
    }

    /// One model; weight file paths stay internal.
    struct Item: Encodable, Sendable {
        var id: String
        var name: String
        var family: String
        var engine: String
        var limits: ModelLimits
        var cost: Cost
        var loras: [Addon]
        var controlnets: [Addon]
        /// `txt2img`, `img2img`, `inpaint`, `upscale`: what requests for this model may ask for.
        var capabilities: [String]
        /// An upscaler's factor (2 or 4); absent for other models.
        var upscaleFactor: Int?
        var availability: ModelAvailability

        enum CodingKeys: String, CodingKey {
            case id, name, family, engine, limits, cost, loras, controlnets, capabilities, availability
            case upscaleFactor = "upscale_factor"
        }

        init(model: ModelEntry, availability: ModelAvailability) {
            id = model.id
            name = model.name
            family = model.family.rawValue
            engine = model.engine.rawValue
            limits = model.limits
            let d = model.limits.defaults
            cost = Cost(
                base: model.pricing.base, perMegapixelStepMilli: model.pricing.perMegapixelStepMilli,
                perLora: model.pricing.perLora, controlnet: model.pricing.controlnet,
                // An upscaler's defaults are an input size: one step at that size × the factor.
                atDefaults: model.upscaleFactor.map { factor in
                    model.pricing.cost(width: d.width * factor, height: d.height * factor, steps: 1, batchSize: 1, loraCount: 0, usesControlNet: false)
                } ?? model.pricing.cost(width: d.width, height: d.height, steps: d.steps, batchSize: 1, loraCount: 0, usesControlNet: false)
            )
            loras = model.loras.map { Addon(name: $0.name, displayName: $0.displayName ?? $0.name) }
            controlnets = model.controlnets.map { Addon(name: $0.name, displayName: $0.displayName ?? $0.name) }
            capabilities = model.capabilities.map(\.rawValue)
            upscaleFactor = model.upscaleFactor
            self.availability = availability
        }
    }

    struct Cost: Encodable, Sendable {
        var base: Int64
        var perMegapixelStepMilli: Int64
        var perLora: Int64
        var controlnet: Int64
        /// What one image at the model's defaults costs.
        var atDefaults: Credits

        enum CodingKeys: String, CodingKey {
            case base, controlnet
            case perMegapixelStepMilli = "per_megapixel_step_milli"
            case perLora = "per_lora"
            case atDefaults = "at_defaults"
        }
    }

    struct Addon: Encodable, Sendable {
        var name: String
        var displayName: String

        enum CodingKeys: String, CodingKey {
            case name
            case displayName = "display_name"
        }
    }
}
