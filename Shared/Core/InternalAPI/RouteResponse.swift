/// The model router's answer to a `RouteRequest`.
package struct RouteResponse: Codable, Sendable, Equatable {
    /// The worker pool the job goes to; its stream is `PipelineKeys.queue(pool)`.
    package var queue: String
    package var cost: Credits
    /// `"sd15"`, `"sdxl"`, `"flux"`, ...
    package var modelFamily: String
    /// Expected run time once started, from measured step times; nil when unknown.
    package var estimatedSeconds: Double?
    /// With a `style`: the prompts the engine gets and the style's sampler when the request named none.
    package var styledPrompt: String?
    package var styledNegativePrompt: String?
    package var sampler: String?
    /// For an upscaler: its factor and the output size (the init image's × factor), which the job
    /// records as its `width` and `height`.
    package var upscaleFactor: Int?
    package var width: Int?
    package var height: Int?

    package init(queue: String, cost: Credits, modelFamily: String, estimatedSeconds: Double? = nil) {
        self.queue = queue
        self.cost = cost
        self.modelFamily = modelFamily
        self.estimatedSeconds = estimatedSeconds
    }

    enum CodingKeys: String, CodingKey {
        case queue, cost
        case modelFamily = "model_family"
        case estimatedSeconds = "estimated_seconds"
        case styledPrompt = "styled_prompt"
        case styledNegativePrompt = "styled_negative_prompt"
        case sampler, width, height
        case upscaleFactor = "upscale_factor"
    }
}
