import Core
import Hummingbird
import Logging
import ServiceKit

/// `GET /api/v1/models`: the catalog as clients see it, with live availability from the worker registry.
struct ModelController<Context: Hummingbird.RequestContext> {
    let catalog: ModelCatalog
    let registry: any WorkerRegistry

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
        let items = catalog.models.map { Item(model: $0, availability: ModelAvailability(model: $0, workers: workers)) }
        return JSONResponse(.ok, List(items: items))
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
        var availability: ModelAvailability

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
                atDefaults: model.pricing.cost(width: d.width, height: d.height, steps: d.steps, batchSize: 1, loraCount: 0, usesControlNet: false)
            )
            loras = model.loras.map { Addon(name: $0.name, displayName: $0.displayName ?? $0.name) }
            controlnets = model.controlnets.map { Addon(name: $0.name, displayName: $0.displayName ?? $0.name) }
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
