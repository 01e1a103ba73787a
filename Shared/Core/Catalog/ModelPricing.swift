
/// How many credits a request costs. Integer arithmetic only, so the same request always costs the same.
///
/// ```
/// cost = batch × (base + loras × per_lora + (controlnet ? controlnet : 0))
///      + ⌈ width × height × steps × batch × per_megapixel_step_milli / 10⁹ ⌉
/// ```
/// (10⁹ = 10⁶ pixels per megapixel × 1000 milli-credits per credit), and never less than 1.
/// Example: SDXL at the defaults (1024×1024, 30 steps, batch 1, base 2, 150 milli) costs
/// 2 + ⌈31 457 280 × 150 / 10⁹⌉ = 2 + 5 = 7 credits.
package struct ModelPricing: Codable, Sendable, Equatable {
    /// Credits per image, whatever its size.
    package var base: Int64
    /// Thousandths of a credit per megapixel per sampling step.
    package var perMegapixelStepMilli: Int64
    /// Credits per LoRA per image.
    package var perLora: Int64
    /// Credits per image when a ControlNet is used.
    package var controlnet: Int64

    package enum CodingKeys: String, CodingKey {
        case base, controlnet
        case perMegapixelStepMilli = "per_megapixel_step_milli"
        case perLora = "per_lora"
    }

    /// The cost of a request already validated against the model's limits (sizes bounded, so no overflow).
    package func cost(width: Int, height: Int, steps: Int, batchSize: Int, loraCount: Int, usesControlNet: Bool) -> Credits {
        let batch = Int64(batchSize)
        let fixed = batch * (base + Int64(loraCount) * perLora + (usesControlNet ? controlnet : 0))
        let work = Int64(width) * Int64(height) * Int64(steps) * batch * perMegapixelStepMilli
        let variable = (work + 999_999_999) / 1_000_000_000
        return Credits(max(1, fixed + variable))
    }
}
