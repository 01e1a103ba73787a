/// `POST /internal/route` on model-router: validate and price a request and pick its queue.
package struct RouteRequest: Codable, Sendable, Equatable {
    package var userID: UserID
    package var plan: Plan
    package var request: JobRequest

    package init(userID: UserID, plan: Plan, request: JobRequest) {
        self.userID = userID
        self.plan = plan
        self.request = request
    }

    enum CodingKeys: String, CodingKey {
        case plan, request
        case userID = "user_id"
    }
}
