import Core
import Foundation
import HTTPTypes
import Hummingbird
import PingvasCrypto
import ServiceKit

/// `POST /internal/api-keys/resolve {key}`: the gateway's look-up of an `Authorization: Bearer
/// pvk_...` key: the owner's identity and plan and the key's scopes, or 404 for an unknown or
/// revoked key. Each answer records the use in `last_used_at`.
struct InternalAPIKeysController<Context: Hummingbird.RequestContext>: Sendable {
    let keys: any APIKeyRepository

    var routes: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.post("resolve", use: resolve)
        return routes
    }

    struct ResolveRequest: Decodable {
        var key: String?
    }

    @Sendable func resolve(_ request: Request, context: Context) async throws -> JSONResponse<APIKeyResolution> {
        let body = try await request.decode(as: ResolveRequest.self, context: context)
        guard let key = body.key, key.hasPrefix("pvk_"), key.utf8.count <= 200,
            let found = try await keys.use(keyHash: SHA256Digest.hex(Array(key.utf8)))
        else {
            throw Problem.notFound("No such API key.")
        }
        return JSONResponse(.ok, APIKeyResolution(
            keyID: found.key.id.uuidString.lowercased(), userID: found.owner.id.description, roles: found.owner.roles,
            plan: found.owner.plan.rawValue, scopes: found.key.scopes.map(\.rawValue)
        ))
    }
}
