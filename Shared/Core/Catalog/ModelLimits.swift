/// What a request for a model may ask for, and what a client should ask for when it has no opinion.
package struct ModelLimits: Codable, Sendable, Equatable {
    package var minWidth: Int
    package var maxWidth: Int
    package var minHeight: Int
    package var maxHeight: Int
    /// Width and height must be multiples of this (8 or 64, depending on the engine's latent layout).
    package var multipleOf: Int
    package var maxSteps: Int
    package var maxBatch: Int
    package var minCfgScale: Double
    package var maxCfgScale: Double
    /// Sampler names the engine accepts for this model; the first default is `defaults.sampler`.
    package var samplers: [String]
    package var defaults: Defaults

    package struct Defaults: Codable, Sendable, Equatable {
        package var width: Int
        package var height: Int
        package var steps: Int
        package var cfgScale: Double
        package var sampler: String

        enum CodingKeys: String, CodingKey {
            case width, height, steps, sampler
            case cfgScale = "cfg_scale"
        }
    }

    package enum CodingKeys: String, CodingKey {
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
