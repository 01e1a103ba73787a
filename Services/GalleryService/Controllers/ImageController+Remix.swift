import Core
import Foundation
import HTTPClient
import HTTPTypes
import Hummingbird
import Logging
import ServiceKit

/// `POST /api/v1/images/{id}/remix`: a new generation from an image's recipe, with optional
/// overrides. Gallery builds the request and submits it to generation as the caller (the identity
/// headers the gateway set, and the `Idempotency-Key`), so validation, pricing, idempotency and
/// credits are exactly those of `POST /api/v1/generations`; its answer is passed back as is.
extension ImageController {
    /// The request fields an override may set (`JobRequest`'s wire names).
    static let recipeFields: Set<String> = [
        "model", "prompt", "negative_prompt", "width", "height", "steps", "cfg_scale", "seed", "sampler", "scheduler",
        "batch_size", "loras", "controlnet", "style", "init_image", "init_image_id", "strength", "mask",
    ]

    @Sendable func remix(_ request: Request, context: ServiceRequestContext) async throws -> Response {
        _ = try CallerIdentity.require(request)
        let record = try await visibleImage(request, context: context)
        guard let recipe = record.recipe else {
            throw Problem(.conflict, type: "no-recipe", detail: "This image was made before recipes were kept; it cannot be remixed.")
        }
        let overrides = try await Self.overrides(request, context: context)
        let body = try Self.remixBody(recipe, overrides: overrides)
        guard let generation else { throw Problem.unavailable("Remix is not configured (PINGVAS_GENERATION_URL).", type: "dependency-unavailable") }

        var headers = HTTPHeaders([("Content-Type", "application/json")])
        for field in request.headers where field.name.canonicalName.lowercased().hasPrefix("x-user-") || field.name.canonicalName.lowercased() == "idempotency-key" {
            headers.add(name: field.name.canonicalName, value: field.value)
        }
        let answer: HTTPClientResponse
        do {
            answer = try await generation.client.execute(HTTPClientRequest(
                method: "POST", url: "\(generation.baseURL)/api/v1/generations", headers: headers, body: body, timeout: .seconds(30)
            ))
        } catch {
            context.logger.warning("generation unreachable for a remix", metadata: ["error": "\(error)"])
            throw Problem.unavailable("The generation service is unreachable; try again.", type: "dependency-unavailable")
        }
        var fields = HTTPFields()
        for name in ["Content-Type", "Location", "Retry-After"] {
            if let value = answer.headers[name], let key = HTTPField.Name(name) { fields[key] = value }
        }
        return Response(status: .init(code: answer.status), headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: answer.body)))
    }

    /// The body's JSON object (empty body: no overrides); only request fields, `null` to drop one.
    static func overrides(_ request: Request, context: ServiceRequestContext) async throws -> [String: Any] {
        let buffer = try await request.body.collect(upTo: 8 << 20)
        guard buffer.readableBytes > 0 else { return [:] }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView))) as? [String: Any] else {
            throw Problem.badRequest("The body must be a JSON object of request fields to change.", type: "invalid-body")
        }
        let unknown = Set(object.keys).subtracting(recipeFields)
        guard unknown.isEmpty else {
            throw Problem.validation(Dictionary(uniqueKeysWithValues: unknown.map { ($0, "not a field of a generation request") }))
        }
        return object
    }

    /// The recipe's request (its seed, a batch of one) with `overrides` laid over it, as JSON.
    static func remixBody(_ recipe: ImageRecipe, overrides: [String: Any]) throws -> [UInt8] {
        let base = try JSONSerialization.jsonObject(with: Data(try WireCodec.encodeBody(recipe.request(controlImage: nil))))
        guard var merged = base as? [String: Any] else { throw Problem.validation(["recipe": "unreadable"]) }
        for (key, value) in overrides {
            if value is NSNull { merged.removeValue(forKey: key) } else { merged[key] = value }
        }
        // The recipe keeps no control image: a ControlNet remix must send it again (or drop the ControlNet).
        if recipe.controlnet != nil, overrides["controlnet"] == nil {
            throw Problem.validation(["controlnet.image": "a remix of a ControlNet image needs the control image again"])
        }
        if var controlnet = overrides["controlnet"] as? [String: Any], let kept = recipe.controlnet {
            controlnet["model"] = controlnet["model"] ?? kept.model
            controlnet["strength"] = controlnet["strength"] ?? kept.strength
            merged["controlnet"] = controlnet
        }
        return Array(try JSONSerialization.data(withJSONObject: merged, options: [.sortedKeys]))
    }
}

/// Where gallery submits remixes: generation's public route, reached inside the cluster.
struct GenerationUpstream: Sendable {
    let baseURL: String
    let client: CurlHTTPClient
}
