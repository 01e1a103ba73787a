import Core
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import PingvasCrypto
import ServiceKit

/// `POST/GET /api/v1/api-keys`, `DELETE /api/v1/api-keys/{id}`: the caller's API keys.
///
/// A key is `pvk_` + 43 random URL-safe characters (256 bits), shown once when created and stored
/// only as its SHA-256 (a key this long needs no slow hash). The gateway accepts it as
/// `Authorization: Bearer pvk_...` within its scopes (`InternalAPIKeysController`).
struct APIKeyController<Context: Hummingbird.RequestContext>: Sendable {
    let keys: any APIKeyRepository

    static var maxKeysPerUser: Int { 25 }
    static var keyPrefix: String { "pvk_" }

    var routes: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.post(use: create)
        routes.get(use: list)
        routes.delete(":id", use: revoke)
        return routes
    }

    struct CreateRequest: Decodable {
        var name: String?
        var scopes: [String]?
    }

    struct KeyResponse: Encodable, Sendable {
        var id: String
        var name: String
        var prefix: String
        var scopes: [String]
        var createdAt: Date
        var lastUsedAt: Date?
        /// Only in the answer to `POST`: the secret itself, never shown again.
        var key: String?

        enum CodingKeys: String, CodingKey {
            case id, name, prefix, scopes, key
            case createdAt = "created_at"
            case lastUsedAt = "last_used_at"
        }

        init(_ record: APIKeyRecord, key: String? = nil) {
            id = record.id.uuidString.lowercased()
            name = record.name
            prefix = record.prefix
            scopes = record.scopes.map(\.rawValue)
            createdAt = record.createdAt
            lastUsedAt = record.lastUsedAt
            self.key = key
        }
    }

    struct ListResponse: Encodable, Sendable {
        var items: [KeyResponse]
    }

    @Sendable func create(_ request: Request, context: Context) async throws -> JSONResponse<KeyResponse> {
        let caller = try CallerIdentity.require(request)
        let body = try await request.decode(as: CreateRequest.self, context: context)
        var errors: [String: String] = [:]
        let name = (body.name ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        if name.isEmpty || name.count > 100 { errors["name"] = "is required, at most 100 characters" }
        if name.unicodeScalars.contains("\0") { errors["name"] = "must not contain NUL characters" }
        let scopes = (body.scopes ?? []).compactMap(APIKeyRecord.Scope.init(rawValue:))
        if body.scopes?.isEmpty ?? true || scopes.count != body.scopes?.count {
            errors["scopes"] = "must be a non-empty list of: \(APIKeyRecord.Scope.allCases.map(\.rawValue).joined(separator: ", "))"
        }
        guard errors.isEmpty else { throw Problem.validation(errors) }
        guard try await keys.list(userID: caller.userID).count < Self.maxKeysPerUser else {
            throw Problem.conflict("At most \(Self.maxKeysPerUser) API keys; revoke one first.", type: "too-many-api-keys")
        }
        let secret = Self.keyPrefix + SecureRandom.token(byteCount: 32)
        let record = try await keys.create(
            userID: caller.userID, name: name, prefix: String(secret.prefix(Self.keyPrefix.count + 8)),
            keyHash: SHA256Digest.hex(Array(secret.utf8)), scopes: Array(Set(scopes)).sorted { $0.rawValue < $1.rawValue }
        )
        context.logger.info("API key created", metadata: ["user_id": "\(caller.userID)", "api_key_id": "\(record.id)"])
        return JSONResponse(.created, KeyResponse(record, key: secret), headers: [.cacheControl: "no-store"])
    }

    @Sendable func list(_ request: Request, context: Context) async throws -> JSONResponse<ListResponse> {
        let caller = try CallerIdentity.require(request)
        return JSONResponse(.ok, ListResponse(items: try await keys.list(userID: caller.userID).map { KeyResponse($0) }))
    }

    @Sendable func revoke(_ request: Request, context: Context) async throws -> Response {
        let caller = try CallerIdentity.require(request)
        guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)), try await keys.revoke(id: id, userID: caller.userID) else {
            throw Problem.notFound("No such API key.")
        }
        context.logger.info("API key revoked", metadata: ["user_id": "\(caller.userID)", "api_key_id": "\(id)"])
        return Response(status: .noContent)
    }
}
