/// `POST /internal/route` on model-router: validate and price a request and pick its queue.
package struct RouteRequest: Codable, Sendable, Equatable {
    package var userID: UserID
    package var plan: Plan
    package var request: JobRequest
    /// With `init_image_id`: the size of that image, as gallery answered when generation checked that
    /// it is the caller's (an upscale's output size is this × the model's factor).
    package var initImageWidth: Int?
    package var initImageHeight: Int?

    package init(userID: UserID, plan: Plan, request: JobRequest, initImageWidth: Int? = nil, initImageHeight: Int? = nil) {
        self.userID = userID
        self.plan = plan
        self.request = request
        self.initImageWidth = initImageWidth
        self.initImageHeight = initImageHeight
    }

    enum CodingKeys: String, CodingKey {
        case plan, request
        case userID = "user_id"
        case initImageWidth = "init_image_width"
        case initImageHeight = "init_image_height"
    }
}
