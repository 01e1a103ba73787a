import Core
import HTTPTypes
import Hummingbird
import ServiceKit

/// `GET /internal/users/{id}`: a user's identity and entitlements for other services.
struct InternalUsersController<Context: Hummingbird.RequestContext>: Sendable {
    let users: any UserRepository

    var routes: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get(":id", use: show)
        return routes
    }

    struct UserResponse: Encodable, Sendable {
        var id: String
        var email: String
        var displayName: String
        var roles: [String]
        var plan: String

        enum CodingKeys: String, CodingKey {
            case id, email, roles, plan
            case displayName = "display_name"
        }
    }

    @Sendable func show(_ request: Request, context: Context) async throws -> JSONResponse<UserResponse> {
        guard let id = context.parameters.get("id").flatMap(UserID.init), let user = try await users.find(id: id) else {
            throw Problem.notFound("No such user.")
        }
        return JSONResponse(.ok, UserResponse(
            id: user.id.description, email: user.email, displayName: user.displayName, roles: user.roles, plan: user.plan.rawValue))
    }
}
