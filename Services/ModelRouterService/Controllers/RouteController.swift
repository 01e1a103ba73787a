import Core
import Hummingbird
import Logging
import ServiceKit

/// `POST /internal/route`: validates a `RouteRequest` against the catalog, prices it and names its queue.
struct RouteController<Context: Hummingbird.RequestContext> {
    let catalog: ModelCatalog
    var styles = StyleCatalog(styles: [])
    let registry: any WorkerRegistry

    /// Mounted at `/internal/route`.
    var routes: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.post { request, context in try await route(request, context: context) }
        return routes
    }

    func route(_ request: Request, context: Context) async throws -> JSONResponse<RouteResponse> {
        let body = try await request.decode(as: RouteRequest.self, context: context)
        let job = body.request
        guard let model = catalog.model(job.model) else {
            throw Problem(
                .unprocessableContent, type: "unknown-model", title: "Unknown model",
                detail: "No model \(job.model.prefix(100)); GET /api/v1/models lists them.",
                extensions: ["errors": .object(["model": .string("unknown model")])]
            )
        }
        if model.isUpscaler { return try await upscale(body, model: model, context: context) }
        var errors = RequestValidator.errors(for: job, model: model)
        var style: StylePreset?
        if let id = job.style {
            style = styles.style(id)
            if style == nil {
                errors["style"] = "unknown style \(id.prefix(60)); GET /api/v1/styles lists them"
            } else if let style, !style.families.contains(model.family) {
                errors["style"] = "\(style.id) is not available for \(model.family.rawValue) models"
            }
        }
        guard errors.isEmpty else { throw Problem.validation(errors) }

        // From an init image the engine samples steps × strength (docs/engine.md): priced and timed so.
        let steps = job.samplingSteps
        let cost = model.pricing.cost(
            width: job.width, height: job.height, steps: steps, batchSize: job.batchSize,
            loraCount: job.loras.count, usesControlNet: job.controlnet != nil
        )
        let warm = await isWarm(model, context: context)
        let seconds = model.timing.estimate(width: job.width, height: job.height, steps: steps, batchSize: job.batchSize, warm: warm)
        var response = RouteResponse(queue: model.pool, cost: cost, modelFamily: model.family.rawValue, estimatedSeconds: seconds)
        if let style {
            response.styledPrompt = style.prompt(job.prompt)
            response.styledNegativePrompt = style.negativePrompt(job.negativePrompt)
            if job.sampler == nil, let sampler = style.defaults.sampler, model.limits.samplers.contains(sampler) { response.sampler = sampler }
        }
        return JSONResponse(.ok, response)
    }

    /// An upscale: validated (`RequestValidator.upscaleErrors`), priced and timed as one step at the
    /// output size; the answer carries the factor and the output size.
    private func upscale(_ body: RouteRequest, model: ModelEntry, context: Context) async throws -> JSONResponse<RouteResponse> {
        let input: (width: Int, height: Int)? = if let width = body.initImageWidth, let height = body.initImageHeight { (width, height) } else { nil }
        let checked = RequestValidator.upscaleErrors(for: body.request, model: model, inputSize: input)
        var errors = checked.errors
        let output = checked.output
        if errors.isEmpty, output == nil { errors["init_image_id"] = "the size of the image is unknown" }
        guard errors.isEmpty, let output, let factor = model.upscaleFactor else { throw Problem.validation(errors) }
        let cost = model.pricing.cost(width: output.width, height: output.height, steps: 1, batchSize: 1, loraCount: 0, usesControlNet: false)
        let warm = await isWarm(model, context: context)
        let seconds = model.timing.estimate(width: output.width, height: output.height, steps: 1, batchSize: 1, warm: warm)
        var response = RouteResponse(queue: model.pool, cost: cost, modelFamily: model.family.rawValue, estimatedSeconds: seconds)
        response.upscaleFactor = factor
        response.width = output.width
        response.height = output.height
        return JSONResponse(.ok, response)
    }

    /// Whether a live worker has the model loaded; assumed warm when the registry cannot be read,
    /// because routing must not fail on an estimate.
    private func isWarm(_ model: ModelEntry, context: Context) async -> Bool {
        if model.engine == .preview { return true }
        do {
            return ModelAvailability(model: model, workers: try await registry.liveWorkers()).warmWorkers > 0
        } catch {
            context.logger.warning("worker registry unavailable", metadata: ["error": "\(error)"])
            return true
        }
    }
}
