/// Rough run-time figures for `estimated_seconds` until measured step times replace them.
package struct ModelTiming: Codable, Sendable, Equatable {
    package var secondsPerMegapixelStep: Double
    /// Per-job fixed cost: text encoding, VAE decode, PNG encode.
    package var overheadSeconds: Double
    /// Added when no live worker has the model warm.
    package var loadSeconds: Double

    package enum CodingKeys: String, CodingKey {
        case secondsPerMegapixelStep = "seconds_per_megapixel_step"
        case overheadSeconds = "overhead_seconds"
        case loadSeconds = "load_seconds"
    }

    /// Seconds a job of this size should take once started.
    package func estimate(width: Int, height: Int, steps: Int, batchSize: Int, warm: Bool) -> Double {
        let megapixels = Double(width * height) / 1_000_000
        let seconds = overheadSeconds + secondsPerMegapixelStep * megapixels * Double(steps * batchSize) + (warm ? 0 : loadSeconds)
        return (seconds * 10).rounded() / 10
    }
}
