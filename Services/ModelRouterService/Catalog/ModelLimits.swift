/// What a request for a model may ask for, and what a client should ask for when it has no opinion.
struct ModelLimits: Codable, Sendable, Equatable {
    var minWidth: Int
    var maxWidth: Int
    var minHeight: Int
    var maxHeight: Int
    /// Width and height must be multiples of this (8 or 64, depending on the engine's latent layout).
    var multipleOf: Int
    var maxSteps: Int
    var maxBatch: Int
    var minCfgScale: Double
    var maxCfgScale: Double
    /// Sampler names the engine accepts for this model; the first default is `defaults.sampler`.
    var samplers: [String]
    var defaults: Defaults

    struct Defaults: Codable, Sendable, Equatable {
        var width: Int
        var height: Int
        var steps: Int
        var cfgScale: Double
        var sampler: String

        enum CodingKeys: String, CodingKey {
            case width, height, steps, sampler
            case cfgScale = "cfg_scale"
        }
    }

    enum CodingKeys: String, CodingKey {
        case samplers, defaults
        case minWidth = "min_width"
        case maxWidth = "max_width"
        case minHeight = "min_height"
        case maxHeight = "max_height"
        case multipleOf = "multiple_of"
        case maxSteps = "max_steps"
        case maxBatch = "max_batch"
        case minCfgScale = "min_cfg_scale"
        case maxCfgScale = "max_cfg_scale"
    }
}
